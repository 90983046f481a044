"""IDENTIFY turns kept in the store, on both backends: whichever process asks, one IDENTIFY per
bucket per window (and margin), buckets independent, a process's second shard waiting like any
other process's. A virtual clock: the waits are computed, never slept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.shards import IDENTIFY_WINDOW_SECONDS
from bot.services.identify import IDENTIFY_MARGIN_SECONDS, IdentifyTurns
from bot.storage.connection import Store
from bot.storage.leases import LeaseRepository

TURN = IDENTIFY_WINDOW_SECONDS + IDENTIFY_MARGIN_SECONDS


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def test_processes_take_turns_per_bucket(database: Store) -> None:
    clock = Clock()
    leases = LeaseRepository(database.connection)
    first, second = (
        IdentifyTurns(database, leases, owner=owner, clock=clock, sleep=clock.sleep)
        for owner in ("host:1:a", "host:2:b")
    )
    started = clock.now

    assert await first.take(0) == 0
    assert await second.take(1) == 0  # another bucket: at once
    assert await second.take(0) == TURN  # the other process's turn in bucket 0 first
    assert clock.now - started == timedelta(seconds=TURN)
    assert await first.take(0) == TURN  # the same process's next shard in bucket 0 waits too
    assert clock.now - started == timedelta(seconds=2 * TURN)
    clock.now += timedelta(seconds=TURN)
    assert await second.take(0) == 0  # the turn has passed: no wait
