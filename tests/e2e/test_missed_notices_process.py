"""The fourth trial's scenario with the real `paperbot run` and the loopback Discord: one admin set
up 10 digests (a server's most), paperbot was offline a week. The admin used to get 70 DMs (one per
digest per day); now one DM lists every digest and day. The process sending it is killed between
Discord creating the DM and the ledger recording it: the next process finds it and sends nothing
twice. With the admin's DMs closed, each channel hears its own days once: 10 posts, not 70."""

from __future__ import annotations

import asyncio
import re
import signal
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.sandbox.emulator import DiscordEmulator
from tests.e2e.conftest import HANG_GUARD, BotProcess, Lab, run_cli, served, start_bot

DAY = re.compile(r"[A-Z][a-z]{2} \d{2} [A-Z][a-z]{2} \d{4}")


def notices(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        m
        for m in messages
        if m.get("embeds") and "missed digest" in ((m["embeds"][0].get("footer") or {}).get("text") or "")
    ]


def days_told(message: dict[str, Any]) -> int:
    return sum(
        len(DAY.findall(line.split(": ")[0]))
        for embed in message["embeds"]
        for line in (embed.get("description") or "").splitlines()
        if line.startswith("•")
    )


async def ten_digests_then_a_week_offline(
    emu: DiscordEmulator, env: dict[str, str], cwd: Path, bots: list[BotProcess], lab: Lab
) -> list[Any]:
    await run_cli(env, cwd, "ingest")
    await run_cli(env, cwd, "sync")
    bot = await start_bot(env, cwd, bots)
    channels = [lab.channel] + [emu.create_channel(lab.guild, f"topic{i}") for i in range(9)]
    at = (datetime.now(UTC) + timedelta(hours=3)).strftime("%H:%M")
    for channel in channels:
        await served(emu, lab.admin, lab.channel, "digest setup", channel=channel, time=at, timezone="UTC")
    bot.send(signal.SIGTERM)
    assert await bot.wait() == 0
    long_ago = (datetime.now(UTC) - timedelta(days=8)).isoformat(timespec="seconds")
    with sqlite3.connect(env["PAPERBOT_DB"]) as db:  # as if set up 8 days ago, then stopped
        db.execute(
            "UPDATE digest_configs SET updated_at = ?, created_at = ?, schedule_from = ?", (long_ago,) * 3
        )
    return channels


async def notices_settled(db: str) -> None:
    """Until every missed day is told and no batch is open: from then on nothing more is sent."""

    def settled() -> bool:
        with sqlite3.connect(db) as conn:
            open_notices = conn.execute(
                "SELECT count(*) FROM digest_notices WHERE state IN ('dm', 'channel')"
            ).fetchone()[0]
            open_batches = conn.execute(
                "SELECT count(*) FROM notice_batches WHERE state = 'sending'"
            ).fetchone()[0]
            told = conn.execute("SELECT count(*) FROM digest_notices").fetchone()[0]
        return told > 0 and open_notices == open_batches == 0

    async with asyncio.timeout(HANG_GUARD):  # a guard against a hung bot, no measure of speed
        while not await asyncio.to_thread(settled):  # noqa: ASYNC110 (another process writes the ledger)
            await asyncio.sleep(0.2)  # polling the ledger for an event, not timing anything


async def test_a_week_offline_with_ten_digests_is_one_dm_sent_once_through_a_kill(
    emulator: DiscordEmulator, bot_env: dict[str, str], tmp_path: Path, bots: list[BotProcess], lab: Lab
) -> None:
    emu = emulator
    env = {**bot_env, "PAPERBOT_DELIVERY__LEASE_SECONDS": "5", "PAPERBOT_DELIVERY__SEND_TIMEOUT_SECONDS": "4"}
    channels = await ten_digests_then_a_week_offline(emu, env, tmp_path, bots, lab)
    held = emu.fail_message(emu.open_dm(lab.admin), at=1, hang=True)  # created; its answer never comes
    dying = await BotProcess(env, tmp_path).start()
    bots.append(dying)
    await emu.wait_for(lambda: held.hits >= 1, wait=HANG_GUARD)
    await dying.kill()  # between Discord creating the DM and the ledger recording it
    assert len(notices(emu.dms(lab.admin))) == 1

    await start_bot(env, tmp_path, bots)  # takes the batch over once the dead one's lease ends
    await notices_settled(env["PAPERBOT_DB"])
    told = notices(emu.dms(lab.admin))
    assert len(told) == 1, [m["embeds"][0]["title"] for m in told]
    text = "\n".join(e.get("description") or "" for e in told[0]["embeds"])
    assert all(f"<#{channel.id}>" in text for channel in channels) and "`/digest post-now`" in text
    assert days_told(told[0]) == 70
    assert all(notices(emu.messages(channel)) == [] for channel in channels)
    sends = [body for method, path, body in emu.requests if method == "POST" and path.endswith("/messages")]
    assert all(isinstance(b, dict) and b.get("nonce") and b.get("enforce_nonce") for b in sends if b)


async def test_with_the_admins_dms_closed_each_channel_hears_its_own_week_once(
    emulator: DiscordEmulator, bot_env: dict[str, str], tmp_path: Path, bots: list[BotProcess], lab: Lab
) -> None:
    emu = emulator
    channels = await ten_digests_then_a_week_offline(emu, bot_env, tmp_path, bots, lab)
    emu.fail_message(emu.open_dm(lab.admin), at=1, status=403, code=50007, persist=True)
    await start_bot(bot_env, tmp_path, bots)
    await notices_settled(bot_env["PAPERBOT_DB"])
    assert notices(emu.dms(lab.admin)) == []
    for channel in channels:
        said = notices(emu.messages(channel))
        assert len(said) == 1 and days_told(said[0]) == 7, channel.name
