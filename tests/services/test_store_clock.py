"""Processes on machines whose clocks differ agree on every lease: each reads the store's time (the
PostgreSQL server's), not its machine's (the sixth trial: a `paperbot run --shards 0,1` on a machine
70 s ahead was not refused beside the live process running shards 0-1; it took them over and the
live process stopped).

The machine clock is moved by patching the clock every service reads (``utcnow``), as a machine
whose clock is wrong would have it; the claims and leases are written through the services that
``Services.open`` builds, as ``paperbot run`` builds them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, tzinfo

import pytest

import bot.services.papers
from bot.services.container import Services
from bot.services.fetching import SCHEDULE_LEASE
from bot.services.shard_claims import ShardClaims, ShardsTaken
from bot.settings import Settings
from bot.storage.postgres import PostgresDatabase
from tests.backends import postgres_server, postgres_url  # noqa: F401 (fixtures)

SOURCE_LEASE = timedelta(seconds=45)


class _MachineClock(datetime):
    """``datetime`` whose ``now`` is this machine's wrong clock."""

    skew = timedelta(0)

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _MachineClock:
        real = datetime.now(tz) + cls.skew
        return cls.fromtimestamp(real.timestamp(), tz)


@contextmanager
def machine_clock_off_by(monkeypatch: pytest.MonkeyPatch, seconds: float) -> Iterator[type[_MachineClock]]:
    clock = type("Skewed", (_MachineClock,), {"skew": timedelta(seconds=seconds)})
    with monkeypatch.context() as patch:
        patch.setattr(bot.services.papers, "datetime", clock)
        yield clock


async def process(store: PostgresDatabase, shards: str) -> Services:
    return await Services.open(store, Settings(shard_count=6, shards=shards), warm=False)


def claims(services: Services, machine: str) -> ShardClaims:
    """The process's shard claims, as `paperbot run` takes them (its services' clock), under an owner
    of another machine: only the claim's expiry says whether it lives."""
    owner = f"{machine}:4242:0000abcd"
    return ShardClaims(
        services.database,
        services.repositories.shard_claims,
        services.settings.shard_plan,
        owner,
        clock=services.clock,
    )


@pytest.mark.parametrize(
    ("running_off", "starting_off"), [(0, 70), (-70, 0)], ids=["new-ahead", "live-behind"]
)
async def test_a_second_process_on_live_shards_is_refused_whatever_either_machines_clock_says(
    postgres_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    running_off: float,
    starting_off: float,
) -> None:
    store = await PostgresDatabase.open(postgres_url)
    try:
        with machine_clock_off_by(monkeypatch, running_off):
            running = await process(store, "0-1")
            await claims(running, "machine-a").claim()
            async with store.transaction():
                held = await running.repositories.leases.acquire(
                    SCHEDULE_LEASE, "machine-a", running.clock(), SOURCE_LEASE
                )
            assert held
        with caplog.at_level(logging.WARNING), machine_clock_off_by(monkeypatch, starting_off) as machine:
            starting = await process(store, "0,1")
            with pytest.raises(ShardsTaken, match="shards 0-1 already run in another paperbot process"):
                await claims(starting, "machine-b").claim()
            # The source schedule stays with its live holder: exactly one process polls.
            async with store.transaction():
                taken = await starting.repositories.leases.acquire(
                    SCHEDULE_LEASE, "machine-b", starting.clock(), SOURCE_LEASE
                )
            assert not taken
            assert await store_holder(starting) == "machine-a"
            # doctor's "running shards" sees the live process
            assert {claim.shard for claim in await starting.shards.holders()} == {"0", "1"}
            # The machine's clock stepped further while the process runs: followed at the next renewal.
            machine.skew += timedelta(seconds=300)
            await starting.measure_clock()
            with pytest.raises(ShardsTaken):
                await claims(starting, "machine-b").claim()
        if running_off or starting_off:
            assert any("clock is 70 s" in record.getMessage() for record in caplog.records)
    finally:
        await store.close()


async def store_holder(services: Services) -> str | None:
    return await services.repositories.leases.holder(SCHEDULE_LEASE)
