"""Discord counts IDENTIFYs per bot, not per process: two `paperbot run` processes reaching IDENTIFY
at the same moment, on one store, take turns (max_concurrency 1: one session start per 5 s), so
Discord (the emulator's limiter, as strict as Discord's) refuses none of them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.sandbox.emulator import DiscordEmulator
from tests.e2e.conftest import HANG_GUARD, BotProcess, start_bot


async def test_two_processes_identifying_together_take_turns(
    emulator: DiscordEmulator, bot_env: dict[str, str], tmp_path: Path, bots: list[BotProcess]
) -> None:
    emulator.identify_limiter.max_concurrency = 1
    # Both processes connect, then HELLO reaches both at once: their IDENTIFYs are due together,
    # however far apart a loaded machine started them.
    emulator.hello.clear()
    starting = [
        asyncio.ensure_future(
            start_bot(bot_env, tmp_path, bots, "--shard-count", "2", "--shards", str(shard))
        )
        for shard in (0, 1)
    ]
    await emulator.wait_for(lambda: emulator.held_hellos >= 2, wait=HANG_GUARD)
    emulator.hello.set()
    await asyncio.gather(*starting)

    assert emulator.connected_shards() == {0, 1}
    assert emulator.identify_refused == 0
    assert emulator.identify_count == 2
