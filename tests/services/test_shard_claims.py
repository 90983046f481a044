"""Which process runs which shards of one store (both backends): a second process on a live
process's shards, or with another --shard-count, is refused with a message naming them; a dead
process's claims expire within a minute; a clean stop frees them at once."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.shards import ShardPlan
from bot.services.delivery import new_instance_id
from bot.services.shard_claims import CLAIM_TTL, ShardClaims, ShardsTaken
from bot.storage.connection import Store
from bot.storage.database import bundled_migrations
from bot.storage.repositories import Repositories
from tests.backends import Opener


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def process(
    database: Store, clock: Clock, count: int | None, ids: tuple[int, ...], owner: str
) -> ShardClaims:
    plan = ShardPlan(count, ids) if count is not None else ShardPlan()
    return ShardClaims(database, Repositories.of(database).shard_claims, plan, owner, clock=clock)


def elsewhere(name: str) -> str:
    """A process on another machine: no local pid says whether it lives, only its renewals."""
    return f"machine-{name}:{name}:0000abcd"


async def test_a_second_process_on_a_live_shard_is_refused_naming_it(database: Store) -> None:
    clock = Clock()
    first = process(database, clock, 3, (0, 1), elsewhere("101"))
    await first.claim()
    second = process(database, clock, 3, (1, 2), elsewhere("202"))
    with pytest.raises(ShardsTaken) as refused:
        await second.claim()
    assert str(refused.value) == (
        "shard 1 already run in another paperbot process (machine-101:101:0000abcd holds shard 1) on this "
        "store: two processes on one shard both answer every command. Stop that process or start this one "
        "with other --shards; a process that died stops holding its shards 60 seconds after its last "
        "renewal (`paperbot doctor` lists who holds which)."
    )
    # Refused as a whole: shard 2 was not left claimed by the process that did not start.
    assert [(h.shard, h.owner) for h in await first.holders()] == [
        ("0", elsewhere("101")),
        ("1", elsewhere("101")),
    ]
    await process(database, clock, 3, (2,), elsewhere("202")).claim()


@pytest.mark.parametrize(
    ("running", "starting", "running_label"),
    [
        ((3, (0, 1, 2)), (2, (0,)), "3 shards"),
        ((None, ()), (2, (0, 1)), "all shards"),
        ((2, (0,)), (None, ()), "2 shards"),
    ],
)
async def test_another_shard_count_than_the_live_one_is_refused(
    database: Store,
    running: tuple[int | None, tuple[int, ...]],
    starting: tuple[int | None, tuple[int, ...]],
    running_label: str,
) -> None:
    clock = Clock()
    await process(database, clock, *running, elsewhere("101")).claim()
    with pytest.raises(ShardsTaken) as refused:
        await process(database, clock, *starting, elsewhere("202")).claim()
    assert str(refused.value).startswith(f"another paperbot process runs this store with {running_label} (")
    assert "every process on one store needs the same --shard-count" in str(refused.value)


async def test_two_unsharded_processes_are_one_too_many(database: Store) -> None:
    clock = Clock()
    await process(database, clock, None, (), elsewhere("101")).claim()
    with pytest.raises(ShardsTaken, match=r"^all shards already run in another paperbot process"):
        await process(database, clock, None, (), elsewhere("202")).claim()


async def test_a_dead_process_on_another_machine_is_taken_over_within_a_minute(database: Store) -> None:
    clock = Clock()
    dead = process(database, clock, 2, (0,), elsewhere("101"))
    await dead.claim()
    clock.now += CLAIM_TTL / 3
    assert await dead.keep()  # renewed while it ran
    restarted = process(database, clock, 2, (0,), elsewhere("303"))
    clock.now += CLAIM_TTL - timedelta(seconds=1)
    with pytest.raises(ShardsTaken):
        await restarted.claim()
    clock.now += timedelta(seconds=1)
    await restarted.claim()
    # The stalled process learns it lost them at its next renewal, and stops serving.
    assert not await dead.keep()
    # The layout moved on with the last process: a new deployment may use another shard count.
    await restarted.release()
    await process(database, clock, 4, (0, 1, 2, 3), elsewhere("404")).claim()


async def test_a_crashed_process_on_this_machine_is_taken_over_at_once(database: Store) -> None:
    """systemd or Docker restart a crashed bot at once: its own old claim (its pid gone, or its pid
    now this process's) must not keep it out for a minute."""
    clock = Clock()
    ended = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import os; print(os.getpid())", stdout=asyncio.subprocess.PIPE
    )
    output, _ = await ended.communicate()
    host = new_instance_id().rsplit(":", 2)[0]
    await process(database, clock, 2, (0, 1), f"{host}:{int(output)}:deadbeef").claim()
    await process(database, clock, 1, (0,), new_instance_id()).claim()  # another layout even


async def test_a_clean_stop_frees_the_shards_and_the_layout_at_once(database: Store) -> None:
    clock = Clock()
    one = process(database, clock, 2, (0,), elsewhere("101"))
    two = process(database, clock, 2, (1,), elsewhere("202"))
    await one.claim()
    await two.claim()
    await one.release()
    assert [h.shard for h in await two.holders()] == ["1"] and await two.layout() == "2 shards"
    await two.release()
    assert await two.holders() == [] and await two.layout() is None
    await process(database, clock, 3, (0, 1, 2), elsewhere("303")).claim()


async def test_an_upgrade_keeps_the_running_processes_claims_and_counts(store_at: tuple[Opener, str]) -> None:
    """Migration 0033 moves the claims (leases) and server counts (shard_servers) of the processes
    running during the upgrade into one record: they stay claimed, and counted."""
    open_store, backend = store_at
    clock = Clock()
    until = (clock.now + CLAIM_TTL).isoformat()
    old = await open_store(migrations=bundled_migrations(backend)[:31])
    async with old.transaction() as connection:
        for name, owner in [
            ("shard:0", "101"),
            ("shard:1", "101"),
            ("shard:2", "202"),
            ("shard-layout", "3"),
        ]:
            owner = "3 shards" if owner == "3" else elsewhere(owner)
            await connection.execute(
                "INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)", (name, owner, until)
            )
        for shard, servers in [(0, 3), (1, 4), (2, 5)]:
            await connection.execute(
                "INSERT INTO shard_servers (shard_id, shard_count, servers, counted_at) VALUES (?, 3, ?, ?)",
                (shard, servers, clock.now.isoformat()),
            )
    await old.close()

    upgraded = await open_store()
    try:
        starting = process(upgraded, clock, 3, (2,), elsewhere("303"))
        assert [(h.shard, h.owner, h.servers) for h in await starting.holders()] == [
            ("0", elsewhere("101"), 3),
            ("1", elsewhere("101"), 4),
            ("2", elsewhere("202"), 5),
        ]
        assert await starting.layout() == "3 shards"
        with pytest.raises(ShardsTaken, match=r"^shard 2 already run in another paperbot process"):
            await starting.claim()
        assert (await starting.servers(3)).servers == 12
        assert (
            await upgraded.connection.fetch_all("SELECT name FROM leases WHERE name LIKE 'shard%'", ()) == []
        )
    finally:
        await upgraded.close()


async def test_an_upgrade_keeps_an_unsharded_processs_claim_and_count(store_at: tuple[Opener, str]) -> None:
    open_store, backend = store_at
    clock = Clock()
    old = await open_store(migrations=bundled_migrations(backend)[:31])
    async with old.transaction() as connection:
        for name, owner in [("shard:all", elsewhere("101")), ("shard-layout", "all shards")]:
            await connection.execute(
                "INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)",
                (name, owner, (clock.now + CLAIM_TTL).isoformat()),
            )
        for shard, servers in [(0, 3), (1, 4)]:  # discord.py ran the 2 shards Discord recommended
            await connection.execute(
                "INSERT INTO shard_servers (shard_id, shard_count, servers, counted_at) VALUES (?, 2, ?, ?)",
                (shard, servers, clock.now.isoformat()),
            )
    await old.close()

    upgraded = await open_store()
    try:
        starting = process(upgraded, clock, None, (), elsewhere("303"))
        assert [(h.shard, h.owner, h.servers) for h in await starting.holders()] == [
            ("all", elsewhere("101"), 7)
        ]
        with pytest.raises(ShardsTaken, match=r"^all shards already run in another paperbot process"):
            await starting.claim()
        total = await starting.servers(2)
        assert (total.servers, total.shards, total.shard_count) == (7, 2, 2)
    finally:
        await upgraded.close()
