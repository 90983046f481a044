"""A stop (SIGTERM, as `docker stop` and systemd send) at any step of the start-up, or while a shard
connects again, ends the real `paperbot run` process cleanly: exit 0 with the database closed, never
a process that hangs on.

Each step is held by the loopback Discord (an answer it keeps back until the test has sent the
signal), so the signal lands inside that step on every run, whatever the machine's load."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from bot.sandbox.emulator import DiscordEmulator
from tests.e2e.conftest import HANG_GUARD, BotProcess, start_bot

# The step the stop lands in: the REST call held while the bot waits for it (skip: calls let through).
STEPS = {
    # Logging in: the application's details, read before the cogs load.
    "logging in": ("GET", "/oauth2/applications/@me", 0),
    # Connecting the shards: before any shard connects the bot reads its session start limits
    # (the first /gateway/bot call).
    "identifying": ("GET", "/gateway/bot", 0),
}


@pytest.mark.parametrize("step", STEPS)
async def test_a_stop_during_start_up_ends_the_process_cleanly(
    emulator: DiscordEmulator, bot_env: dict[str, str], tmp_path: Path, bots: list[BotProcess], step: str
) -> None:
    method, path, skip = STEPS[step]
    held = emulator.inject(method, path, status=200, skip=skip, hang=True)
    bot = await BotProcess(bot_env, tmp_path).start()
    bots.append(bot)
    await emulator.wait_for(lambda: held.hits, wait=HANG_GUARD)

    bot.send(signal.SIGTERM)

    assert await bot.wait() == 0, bot.log()
    assert "stopped: database closed" in bot.log()
    # It stopped where it was: no shard went on to identify after the stop.
    assert not emulator.identified.is_set()


async def test_a_stop_while_a_shard_connects_again_ends_the_process_cleanly(
    emulator: DiscordEmulator, bot_env: dict[str, str], tmp_path: Path, bots: list[BotProcess]
) -> None:
    # Discord drops the connection; the bot's shard connects again and waits for HELLO (held here),
    # as a second process's shard waits to identify again after Discord said "too fast".
    bot = await start_bot(bot_env, tmp_path, bots)
    emulator.hello.clear()
    await emulator.disconnect_gateway()
    await emulator.wait_for(lambda: emulator.held_hellos, wait=HANG_GUARD)

    bot.send(signal.SIGTERM)

    assert await bot.wait() == 0, bot.log()
    assert "stopped: database closed" in bot.log()
    emulator.hello.set()
