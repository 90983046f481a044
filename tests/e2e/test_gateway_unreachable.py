"""`paperbot run` with a DISCORD_GATEWAY_URL nothing listens on says so at once (address, wait),
without the URL's password or query, and still stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.e2e.conftest import BotProcess
from tests.loopback import closed_port


async def test_an_unreachable_gateway_is_a_warning_naming_it_and_the_wait(
    bot_env: dict[str, str], tmp_path: Path, bots: list[BotProcess]
) -> None:
    port = closed_port()
    env = bot_env | {
        "DISCORD_GATEWAY_URL": f"ws://bot:hunter2@127.0.0.1:{port}/?token=s3cr3t",
        "PAPERBOT_SHARD_COUNT": "1",  # a set shard count connects to DISCORD_GATEWAY_URL itself
    }
    bot = await BotProcess(env, tmp_path).start()
    bots.append(bot)
    line = await bot.wait_for_log("cannot connect to the Discord gateway")
    assert "WARNING" in line
    assert f"at ws://127.0.0.1:{port}/ for shard 0" in line and "trying again in 5 s" in line
    assert "hunter2" not in bot.log() and "s3cr3t" not in bot.log()
    bot.send(signal.SIGTERM)
    assert await bot.wait() == 0
