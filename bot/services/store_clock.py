"""One clock for every process of a store: the database server's.

Every lease (shard claims, the source schedule, IDENTIFY turns, digest claims, DM and notice
batches) is written and compared as "now". Each process used to read its own machine's clock, so
a machine 70 s ahead saw a live process's claims as expired and took its shards (the live process
stopped), and one behind took over a dead process's work that much later than promised. On
PostgreSQL the processes of several machines share one server, so each reads the server's time:
its machine's clock plus the offset to the server's, measured at start and again as it runs (a
clock stepped by NTP is followed within a renewal). On SQLite every process is on the file's
machine: the offset is 0.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.storage.server_time import ServerTimeRepository

log = logging.getLogger(__name__)

# An offset this large is said in the log: the machine's clock is wrong (paperbot no longer minds).
NOTABLE_OFFSET = timedelta(seconds=5)


class StoreClock:
    """Callable like any services' clock: the store's time now."""

    def __init__(self, server: ServerTimeRepository, machine: Callable[[], datetime]) -> None:
        self._server = server
        self._machine = machine
        self.offset = timedelta(0)
        self._said: timedelta | None = None

    def __call__(self) -> datetime:
        return self._machine() + self.offset

    async def measure(self) -> None:
        """Measure the offset to the server's clock (half the round trip on each side)."""
        before = self._machine()
        server = await self._server.now()
        after = self._machine()
        if server is None:
            return
        self.offset = server - (before + (after - before) / 2)
        if abs(self.offset) >= NOTABLE_OFFSET and (
            self._said is None or abs(self.offset - self._said) >= NOTABLE_OFFSET
        ):
            self._said = self.offset
            log.warning(
                "this machine's clock is %.0f s %s the database server's: paperbot keeps the server's "
                "time for its leases and schedules (set the machine's clock right, e.g. with NTP)",
                abs(self.offset.total_seconds()),
                "behind" if self.offset > timedelta(0) else "ahead of",
            )
