"""The real `paperbot run` process against the loopback Discord: commands, DMs, digests, restarts,
disconnects, rate limits and shutdown, as a server would live through them."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.sandbox.emulator import DiscordEmulator
from bot.sandbox.model import EMBED_LINKS
from tests.e2e.conftest import HANG_GUARD, TOKEN, BotProcess, Lab, run_cli

FIXTURES = Path(__file__).parent.parent / "fixtures"


def digest_posts(emu: DiscordEmulator, channel: Any) -> list[dict[str, Any]]:
    return [
        m
        for m in emu.messages(channel)
        if m["embeds"] and (m["embeds"][0].get("footer") or {}).get("text", "").startswith("digest ")
    ]


async def test_the_bot_process_end_to_end(
    emulator: DiscordEmulator, bot_env: dict[str, str], tmp_path: Path, bots: list[BotProcess], lab: Lab
) -> None:
    emu = emulator
    guild, channel, admin, alice = lab.guild, lab.channel, lab.admin, lab.alice

    # Set-up as an owner would do it: load papers, publish the commands once.
    await run_cli(bot_env, tmp_path, "ingest")
    synced = await run_cli(bot_env, tmp_path, "sync")
    assert "Synced 8 commands" in synced
    assert {c["name"] for c in emu.global_commands} == {
        "papers",
        "digest",
        "follow",
        "library",
        "privacy",
        "admin",
        "help",
        "about",
    }

    bot = await BotProcess(bot_env, tmp_path).start()
    bots.append(bot)
    await emu.wait_for(emu.identified.is_set, wait=HANG_GUARD)  # a loaded machine starts it slowly
    await bot.wait_for_log("digest catch-up at start")

    search = await emu.slash(alice, channel, "papers search", query="federated learning")
    assert search.callback_type == 4
    assert "federated learning" in search.response["embeds"][0]["title"]
    assert search.response["allowed_mentions"] == {"parse": []}

    # Discord drops answers later than 3 s; the emulator does too, so getting choices is the proof.
    choices = await emu.autocomplete(alice, channel, "papers show", "paper", "federatd orthogonal")
    assert choices[0]["name"].startswith("Federated Orthogonal Training")

    # A follow, then an ingest from another process: one DM, via the durable queue, through 429s.
    follow = await emu.slash(alice, channel, "follow add", keyword="diffusion")
    assert follow.ephemeral
    emu.inject("POST", "/channels/*/messages", status=429, times=2, retry_after=0.2)
    await run_cli(bot_env, tmp_path, "ingest", str(FIXTURES / "hf_daily_2024-07-31.json"))
    await emu.wait_for(lambda: emu.dms(alice), wait=15)
    [dm] = emu.dms(alice)
    assert emu.faults[-1].times == 0  # both 429s were served before the DM went through
    assert "Federated Diffusion Models with Private Prompts" in dm["embeds"][1]["description"]

    # A channel where the bot may not post embeds is refused up front.
    muted = emu.create_channel(guild, "muted", bot_denied=EMBED_LINKS)
    refused = await emu.slash(admin, channel, "digest setup", channel=muted, time="09:00", timezone="UTC")
    assert refused.ephemeral and "Embed Links" in refused.response["content"]

    # A burst of 429s on channel posts delays the digest but loses nothing.
    emu.inject("POST", "/channels/*/messages", status=429, times=3, retry_after=0.2)
    now = datetime.now(UTC)
    setup = await emu.slash(
        admin, channel, "digest setup", channel=channel, time=f"{now:%H:%M}", timezone="UTC"
    )
    assert setup.ephemeral
    await emu.wait_for(lambda: digest_posts(emu, channel), wait=20)
    rate_limited = [r for r in emu.requests if r[0] == "POST" and r[1] == f"/channels/{channel.id}/messages"]
    assert emu.faults[-1].times == 0  # all three 429s were served...
    assert len(rate_limited) == 1  # ...and the post then went through once
    assert len(digest_posts(emu, channel)) == 1

    # Killed right after posting, started again: nothing twice.
    await bot.kill()
    restarted = await BotProcess(bot_env, tmp_path).start()
    bots.append(restarted)
    await restarted.wait_for_log("digest catch-up at start: 0 posted")
    assert len(digest_posts(emu, channel)) == 1
    assert emu.identify_count == 2

    # The gateway drops in the middle of a command: the event is replayed on resume and answered.
    pending = asyncio.create_task(emu.slash(alice, channel, "papers random", wait=20))
    await emu.disconnect_gateway()
    await emu.wait_for(lambda: emu.resumed_count >= 1, wait=20)
    assert (await pending).response["embeds"]
    after = await emu.slash(alice, channel, "papers today")
    assert after.response["embeds"]

    # Server-only commands sent from a DM are refused plainly.
    for command in ("digest show", "follow list"):
        from_dm = await emu.slash(alice, emu.open_dm(alice), command)
        assert from_dm.ephemeral and "only works inside a server" in from_dm.response["content"]

    # SIGTERM: a clean stop.
    restarted.send(signal.SIGTERM)
    assert await restarted.wait() == 0
    assert any("database closed" in line for line in restarted.lines)
    assert emu.unknown_routes == []
    logs = "\n".join(bot.lines + restarted.lines)
    assert TOKEN in emu.tokens_seen and TOKEN not in logs
