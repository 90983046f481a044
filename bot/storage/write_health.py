"""Whether the store takes writes: what `paperbot health` reports from the running bot.

A full disk fails every write while reads (searches, the daily list) go on as before, so nothing
else the heartbeat shows changes: without this, health said "healthy" while no digest could be
claimed and no follow saved. The store learns it from the writes themselves, with no probe of its
own: the first refused commit marks it unwritable, the next commit that wrote anything clears it.
A running bot writes at least every 20 s (its shard claims), so both show within a heartbeat or
two. A commit that wrote nothing proves nothing (it needs no space), so it leaves the mark alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class Unwritable:
    since: datetime  # the first refused write of this spell
    reason: str  # the user-facing message of the refusal (bot.errors.DiskFull)


def utcnow() -> datetime:
    return datetime.now(UTC)


class WriteHealth:
    """The store's writes as they succeed or are refused for lack of space."""

    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self._clock = clock
        self.unwritable: Unwritable | None = None

    def refused(self, reason: str) -> None:
        """A write failed for lack of space; a spell already under way keeps its start."""
        if self.unwritable is None:
            self.unwritable = Unwritable(self._clock(), reason)

    def wrote(self) -> None:
        """A commit that changed something went through: there is room again."""
        self.unwritable = None
