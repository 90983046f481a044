"""The bot's server count over several processes, on both backends: each process records its own
shards' counts in the shared store, any process sums them, a process that stops counting drops out
of the sum after three beats, and counts of an older shard layout never add up."""

from __future__ import annotations

from datetime import timedelta

from bot.services.container import SERVER_COUNT_SECONDS, SERVER_COUNT_STALE, Services
from bot.settings import Settings
from tests.backends import Opener
from tests.conftest import FIXED_NOW


async def test_processes_counts_add_up_and_a_silent_process_drops_out(store_at: tuple[Opener, str]) -> None:
    open_store, _ = store_at
    now = [FIXED_NOW]
    stores = [await open_store(), await open_store()]
    try:
        one, two = [await Services.open(s, Settings(), clock=lambda: now[0], warm=False) for s in stores]
        await one.count_servers({0: 99}, 2)  # before a resharding to 3 shards
        await one.count_servers({0: 3, 1: 4}, 3)
        await two.count_servers({2: 5}, 3)

        for process in (one, two):
            total = await process.servers(3)
            assert (total.servers, total.shards, total.shard_count) == (12, 3, 3)
            assert total.counted_at == FIXED_NOW

        # The first process beats on; the second stopped: three beats on, its servers drop out.
        for _ in range(3):
            now[0] += timedelta(seconds=SERVER_COUNT_SECONDS)
            await one.count_servers({0: 3, 1: 4}, 3)
        now[0] = FIXED_NOW + SERVER_COUNT_STALE + timedelta(seconds=1)
        total = await two.servers(3)
        assert (total.servers, total.shards) == (7, 2)
        assert total.counted_at == FIXED_NOW + 3 * timedelta(seconds=SERVER_COUNT_SECONDS)
    finally:
        for store in stores:
            await store.close()
