"""IDENTIFY turns for the whole deployment, kept in the shared store.

Discord lets a bot start ``max_concurrency`` sessions per 5 s, one per bucket (``shard_id %
max_concurrency``), counted per bot, not per process: three `paperbot run` processes starting at
once, each pacing its own shards, identified too fast and Discord invalidated the sessions. Each
IDENTIFY now first takes its bucket's turn, a lease in the store that no one can take again until
the window (and a margin for the IDENTIFY's own trip) has passed.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from bot.domain.shards import IDENTIFY_WINDOW_SECONDS
from bot.storage.connection import Store
from bot.storage.leases import LeaseRepository

log = logging.getLogger(__name__)

# Between taking the turn and Discord receiving the IDENTIFY: the hook returns, discord.py sends.
# The next turn starts this much after the window, so the two IDENTIFYs are a full window apart.
IDENTIFY_MARGIN_SECONDS = 1.0


def _now() -> datetime:
    return datetime.now(UTC)


class IdentifyTurns:
    def __init__(
        self,
        database: Store,
        leases: LeaseRepository,
        *,
        owner: str,
        clock: Callable[[], datetime] = _now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        window: float = IDENTIFY_WINDOW_SECONDS + IDENTIFY_MARGIN_SECONDS,
    ) -> None:
        self._database = database
        self._leases = leases
        self._owner = owner
        self._clock = clock
        self._sleep = sleep
        self._window = timedelta(seconds=window)

    async def take(self, bucket: int) -> float:
        """Wait for ``bucket``'s turn and take it; returns the seconds waited."""
        name = f"identify:{bucket}"
        # A ticket of its own: the lease's owner renews what it holds, and a second shard of this
        # process in the same bucket must wait its turn like any other process's.
        ticket = f"{self._owner}/{uuid.uuid4().hex[:8]}"
        waited = 0.0
        while True:
            now = self._clock()
            async with self._database.transaction():
                if await self._leases.acquire(name, ticket, now, self._window):
                    return waited
                until = await self._leases.expires(name)
            # Expired meanwhile (or released): try again at once; else when the turn is free.
            delay = max(0.0, (until - now).total_seconds()) if until is not None else 0.0
            log.info("IDENTIFY bucket %s is another process's for %.1f s more", bucket, delay)
            await self._sleep(delay)
            waited += delay
