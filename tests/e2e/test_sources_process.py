"""The real `paperbot run` process fetches on its own schedule, whether or not any server has a
digest: a loopback Hugging Face API, the loopback Discord, a member who follows a keyword."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.sandbox.emulator import DiscordEmulator
from tests.e2e.conftest import HANG_GUARD, BotProcess, answer_text, run_cli, served
from tests.hf_api import fake_hf_api, hf_item


async def test_follow_alerts_come_from_the_source_schedule_and_restarts_fetch_only_when_old(
    emulator: DiscordEmulator, bot_env: dict[str, str], tmp_path: Path, bots: list[BotProcess]
) -> None:
    emu = emulator
    guild = emu.create_guild("Lab")
    channel = emu.create_channel(guild, "general")
    alice = emu.add_member(guild, "alice")
    await run_cli(bot_env, tmp_path, "sync")

    async with fake_hf_api() as api:
        today = datetime.now(UTC).date()
        api.add(today, hf_item("2611.00001", "A Paper Nobody Follows"))
        # A short interval and a fast check for the test; no digest anywhere. The momentum
        # refresh at start asks for seven lists: without the polite second between two of them
        # (bot/services/fetching's own tests cover it on a virtual clock), the start's log line
        # waits on the process alone, not on six seconds of wall-clock sleep a loaded machine
        # stretches past the wait.
        env = bot_env | {
            "PAPERBOT_SOURCES__HF_API_URL": api.url,
            "PAPERBOT_SOURCES__REFRESH_MINUTES": "0.02",
            "PAPERBOT_SOURCES__CHECK_SECONDS": "0.2",
            "PAPERBOT_SOURCES__REFRESH_SPACING_SECONDS": "0",
        }
        bot = await BotProcess(env, tmp_path).start()
        bots.append(bot)
        await bot.wait_for_log("source schedule at start: fetched hf")
        assert api.asked(today) >= 1
        await emu.wait_for(emu.identified.is_set, wait=HANG_GUARD)
        follow = await served(emu, alice, channel, "follow add", keyword="protein folding")
        assert follow.ephemeral and "Following" in answer_text(follow)

        # The API's list for today gains a matching paper; the next scheduled fetch brings it.
        api.add(today, hf_item("2611.00002", "Protein Folding with Tiny Transformers", upvotes=4))
        await emu.wait_for(lambda: emu.dms(alice), wait=HANG_GUARD)
        [dm] = emu.dms(alice)
        assert "Protein Folding with Tiny Transformers" in str(dm["embeds"])

        # A clean stop; the restart finds a fresh fetch (interval now 10 hours): no fetch at start.
        bot.send(signal.SIGTERM)
        assert await bot.wait() == 0
        asked = len(api.requests)
        env["PAPERBOT_SOURCES__REFRESH_MINUTES"] = "600"
        fresh = await BotProcess(env, tmp_path).start()
        bots.append(fresh)
        await fresh.wait_for_log("source schedule at start: nothing due (hf next at")
        assert len(api.requests) == asked
        fresh.send(signal.SIGTERM)
        assert await fresh.wait() == 0

        # The last fetch becomes old (as after a long downtime): the restart fetches at start.
        with sqlite3.connect(tmp_path / "e2e.db") as db:
            db.execute("UPDATE source_fetches SET fetched_at = '2020-01-01T00:00:00+00:00'")
        old = await BotProcess(env, tmp_path).start()
        bots.append(old)
        await old.wait_for_log("source schedule at start: fetched hf")
        # The momentum refresh is due as well: its week covers yesterday's and today's lists, so
        # each of the week's lists is asked once, none twice.
        week = [today - timedelta(days=back) for back in range(6, -1, -1)]
        assert sorted(api.requests[asked:]) == week
        assert len(emu.dms(alice)) == 1  # nothing twice


async def test_a_stop_during_a_fetch_cancels_it_cleanly_and_the_next_start_fetches_again(
    emulator: DiscordEmulator, bot_env: dict[str, str], tmp_path: Path, bots: list[BotProcess]
) -> None:
    """SIGTERM while the Hugging Face API has not finished answering: the fetch is cancelled (no
    traceback: apscheduler used to log the cancelled job as one that raised), the schedule's lease
    is freed for a standby process, nothing is recorded as fetched, and the next start fetches."""
    async with fake_hf_api() as api:
        today = datetime.now(UTC).date()
        api.add(today, hf_item("2611.00001", "A Paper Fetched After The Restart"))
        api.hold.set()
        env = bot_env | {
            "PAPERBOT_SOURCES__HF_API_URL": api.url,
            "PAPERBOT_SOURCES__REFRESH_SPACING_SECONDS": "0",
        }
        bot = await BotProcess(env, tmp_path).start()
        bots.append(bot)
        await asyncio.wait_for(api.held.wait(), HANG_GUARD)  # the first request is mid-answer
        bot.send(signal.SIGTERM)
        assert await bot.wait() == 0
        assert "Traceback" not in bot.log() and "raised an exception" not in bot.log(), bot.log()
        with sqlite3.connect(tmp_path / "e2e.db") as db:
            assert db.execute("SELECT * FROM leases WHERE name = 'sources'").fetchall() == []
            assert db.execute("SELECT * FROM source_fetches").fetchall() == []

        api.hold.clear()
        api.release.set()  # the answer the stopped process never read goes nowhere
        again = await BotProcess(env, tmp_path).start()
        bots.append(again)
        await again.wait_for_log("source schedule at start: fetched hf")
        again.send(signal.SIGTERM)
        assert await again.wait() == 0
        with sqlite3.connect(tmp_path / "e2e.db") as db:
            titles = db.execute("SELECT title FROM papers").fetchall()
        assert ("A Paper Fetched After The Restart",) in titles
