"""/admin sync here:True in a server that did not grant applications.commands: Discord answers 403
Missing Access, and the owner reads one sentence saying why, privately, not an error reference."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.emulator import DiscordEmulator
from tests.e2e.conftest import BotProcess, answer_text, run_cli, start_bot


async def test_admin_sync_here_without_the_commands_scope_says_why(
    emulator: DiscordEmulator, bot_env: dict[str, str], tmp_path: Path, bots: list[BotProcess]
) -> None:
    guild = emulator.create_guild("invited with the bot scope only", commands_scope=False)
    channel = emulator.create_channel(guild, "papers")
    assert "Synced 8 commands" in await run_cli(bot_env, tmp_path, "sync")
    bot = await start_bot(bot_env, tmp_path, bots)

    synced = await emulator.slash(emulator.owner, channel, "admin sync", here=True)
    await emulator.wait_for(lambda: answer_text(synced) and "thinking" not in answer_text(synced))

    said = answer_text(synced)
    assert f"Discord refused the commands for server {guild.id} (403 Missing Access)" in said
    assert "applications.commands" in said and "Error reference" not in said
    assert synced.ephemeral and emulator.guild_commands == {}
    assert "Traceback" not in bot.log()
