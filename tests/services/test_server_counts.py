"""The bot's server count over several processes, on both backends: each process counts its own
shards' servers onto its shard claims in the shared store, any process sums the live claims, and a
count is only ever a live holder's: a process whose claim lapsed, or whose shard was taken over,
no longer adds up."""

from __future__ import annotations

from datetime import datetime

from bot.domain.shards import ShardPlan
from bot.services.shard_claims import CLAIM_TTL, RENEW_EVERY, ShardClaims
from bot.storage.connection import Store
from bot.storage.repositories import Repositories
from tests.backends import Opener
from tests.conftest import FIXED_NOW


def process(store: Store, now: list[datetime], ids: tuple[int, ...], pid: int) -> ShardClaims:
    """A process running ``ids`` of 3 shards, on another machine (only its renewals say it lives)."""
    owner = f"machine-{pid}:{pid}:0000abcd"
    claims = Repositories.of(store).shard_claims
    return ShardClaims(store, claims, ShardPlan(3, ids), owner, clock=lambda: now[0])


async def outlive_a_claim(now: list[datetime], *running: ShardClaims) -> None:
    """A claim's lifetime passes; the ``running`` processes renew theirs as `paperbot run` does."""
    until = now[0] + CLAIM_TTL
    while now[0] < until:
        now[0] += RENEW_EVERY
        for shards in running:
            assert await shards.keep()


async def test_processes_counts_add_up_and_a_silent_process_drops_out(store_at: tuple[Opener, str]) -> None:
    open_store, _ = store_at
    now = [FIXED_NOW]
    stores = [await open_store(), await open_store()]
    try:
        one, two = process(stores[0], now, (0, 1), 101), process(stores[1], now, (2,), 202)
        for shards in (one, two):
            await shards.claim()
        await one.count_servers({0: 3, 1: 4})
        await two.count_servers({2: 5})

        for shards in (one, two):
            total = await shards.servers(3)
            assert (total.servers, total.shards, total.shard_count) == (12, 3, 3)
            assert total.counted_at == FIXED_NOW

        # The first process renews its claims and counts on; the second stopped (killed, frozen):
        # its servers drop out once its claim lapses, though it counted less than a minute ago.
        await outlive_a_claim(now, one)
        await one.count_servers({0: 3, 1: 4})
        total = await two.servers(3)
        assert (total.servers, total.shards) == (7, 2)
        assert total.counted_at == FIXED_NOW + CLAIM_TTL
    finally:
        for store in stores:
            await store.close()


async def test_a_shard_taken_over_counts_its_new_holder_only(store_at: tuple[Opener, str]) -> None:
    """The disagreement two tables allowed: a shard whose claim passed to a restarted process
    still summed its old holder's count (until that went stale three minutes later)."""
    open_store, _ = store_at
    now = [FIXED_NOW]
    stores = [await open_store(), await open_store(), await open_store()]
    try:
        one, dead = process(stores[0], now, (0, 1), 101), process(stores[1], now, (2,), 202)
        restarted = process(stores[2], now, (2,), 303)
        for shards in (one, dead):
            await shards.claim()
        await one.count_servers({0: 3, 1: 4})
        await dead.count_servers({2: 50})
        assert (await one.servers(3)).servers == 57

        await outlive_a_claim(now, one)
        await restarted.claim()  # the dead process's claim has lapsed: taken over
        total = await one.servers(3)
        assert (total.servers, total.shards) == (7, 2)  # the new holder has not counted yet
        # The old holder, frozen rather than dead, wakes and counts: not its shard any more.
        await dead.count_servers({2: 50})
        assert (await one.servers(3)).servers == 7
        await restarted.count_servers({2: 6})
        total = await dead.servers(3)
        assert (total.servers, total.shards, total.counted_at) == (13, 3, FIXED_NOW)
        # A renewal keeps the holder's count; a clean stop takes it out of the sum at once.
        now[0] += RENEW_EVERY
        assert await restarted.keep() and (await one.servers(3)).servers == 13
        await restarted.release()
        assert (await one.servers(3)).servers == 7
    finally:
        for store in stores:
            await store.close()
