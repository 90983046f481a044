"""`paperbot health` and JSON logs, against the real `paperbot run` process over the loopback Discord."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from bot.health import STALE_AFTER_INTERVALS, Heartbeat, read_heartbeat
from bot.sandbox.emulator import DiscordEmulator
from tests.e2e.conftest import HANG_GUARD, BotProcess, run_cli

# The bot writes its heartbeat at once when the gateway connects, drops or reconnects and when the
# scheduler starts ticking, so the test sees each state as it happens; the interval only keeps the
# file fresh. It is long: `paperbot health` calls a heartbeat older than three intervals stale, and
# with a short one a loaded machine that left the bot without the CPU for a moment made a running
# bot look dead (0.2 s: stale after 0.6 s). Only a bot stalled as long as a hang counts now.
INTERVAL = HANG_GUARD / STALE_AFTER_INTERVALS


def connected_and_ticking(heartbeat: Heartbeat) -> bool:
    return heartbeat.gateway_connected and heartbeat.last_tick is not None


async def heartbeat_where(path: Path, wanted: Callable[[Heartbeat], bool]) -> Heartbeat:
    """The first heartbeat the bot writes that satisfies ``wanted`` (checked as it is rewritten)."""
    async with asyncio.timeout(HANG_GUARD):  # a guard against a hung bot, no measure of speed
        while True:
            with contextlib.suppress(FileNotFoundError):  # not written yet
                heartbeat = read_heartbeat(path)
                if wanted(heartbeat):
                    return heartbeat
            await asyncio.sleep(0.05)  # the file is the bot's only signal; re-read it as it changes


async def health(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "health",
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_health_follows_the_running_bot_from_start_to_stop(
    emulator: DiscordEmulator, bot_env: dict[str, str], tmp_path: Path, bots: list[BotProcess]
) -> None:
    heartbeat_file = tmp_path / "run" / "heartbeat.json"
    env = bot_env | {
        "PAPERBOT_HEALTH__FILE": str(heartbeat_file),
        "PAPERBOT_HEALTH__INTERVAL_SECONDS": str(INTERVAL),
    }
    code, output = await health(env, tmp_path)
    assert code == 1 and "missing" in output  # not started yet

    bot = await BotProcess(env, tmp_path).start()
    bots.append(bot)
    await emulator.wait_for(emulator.identified.is_set, wait=HANG_GUARD)  # a loaded machine starts it slowly
    await bot.wait_for_log("source schedule at start: fetched hf")  # the source is down (port 9)
    running = await heartbeat_where(heartbeat_file, connected_and_ticking)
    assert bot.process is not None and running.pid == bot.process.pid
    code, output = await health(env, tmp_path)
    assert code == 0, output
    assert "✔ gateway: connected" in output and "✔ scheduler: last tick" in output
    # The source schedule tried at start: a source that is down shows, but never fails the check.
    assert "fetch hf" in output and "failed" in output
    assert all(line.startswith("✔") for line in output.splitlines() if "fetch hf" in line)

    # A dropped gateway shows in the heartbeat, then the bot resumes and is connected again.
    await emulator.disconnect_gateway()
    await emulator.wait_for(lambda: emulator.resumed_count >= 1, wait=HANG_GUARD)
    # Connected again since a later moment: the heartbeat written as it came back (not the old one).
    await heartbeat_where(
        heartbeat_file, lambda h: connected_and_ticking(h) and h.gateway_since > running.gateway_since
    )
    assert (await health(env, tmp_path))[0] == 0

    # SIGTERM: a clean stop leaves a heartbeat saying so, and health turns 1 at once.
    bot.send(signal.SIGTERM)
    assert await bot.wait() == 0
    assert read_heartbeat(heartbeat_file).stopped
    code, output = await health(env, tmp_path)
    assert code == 1 and "✘ process: pid" in output and "stopped" in output


async def test_with_log_format_json_every_line_of_the_bot_is_json_and_names_server_and_command(
    emulator: DiscordEmulator, bot_env: dict[str, str], tmp_path: Path, bots: list[BotProcess]
) -> None:
    env = bot_env | {"PAPERBOT_LOG__FORMAT": "json"}
    guild = emulator.create_guild("Research Lab")
    channel = emulator.create_channel(guild, "papers")
    alice = emulator.add_member(guild, "alice")
    await run_cli(env, tmp_path, "sync")
    bot = await BotProcess(env, tmp_path).start()
    bots.append(bot)
    await bot.wait_for_log("digest catch-up at start")
    answer = await emulator.slash(alice, channel, "help")
    assert answer.ephemeral and answer.response["embeds"]
    await bot.wait_for_log("command /help")
    bot.send(signal.SIGTERM)
    assert await bot.wait() == 0

    lines = [json.loads(line) for line in bot.lines]  # each line parses on its own: nothing else is printed
    assert lines and all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    [command] = [line for line in lines if line["message"] == "command /help"]
    assert (command["guild"], command["user"], command["command"]) == (guild.id, alice.id, "help")
    assert lines[-1]["message"] == "stopped: database closed"
