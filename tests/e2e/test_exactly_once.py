"""Exactly once with real processes (docs/reliability.md): the real ``paperbot run`` against the
emulator, which fails the k-th message of a channel or DM as Discord would and honours ``nonce`` +
``enforce_nonce``. Many cells share one process run: each server (digest) and each member (alert
DM) meets its own fault at its own part, so a run proves them all at once.

* Every fault Discord can answer (503, 403 / 50013, 403 / 50007, an answer held back past the bot's
  send timeout) at each part 1..5 of a 5-part digest and of a 5-part alert DM, then a restart (a
  new process, after the dead one's lease), the admin's ``/digest resume`` and the member's
  ``/follow``: 40 cells, one run.
* ``kill -9`` at each part 1..5 (the part is created, its answer held back, the process killed):
  five servers at once in the first process, the five members' DMs one process each (alert DMs go
  out one member after another).
* Two ``paperbot run`` processes started together on one database: one digest, each alert once.
"""

from __future__ import annotations

import asyncio
import copy
import json
import sqlite3
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.emulator import DiscordEmulator, Fault
from bot.sandbox.model import Channel, Json, User
from tests.delivery_cells import ABSTRACT, ALERT_PAPERS, DIGEST_PAPERS, EXTRA_LISTED, numbers, title
from tests.delivery_cells import counted as counted_in
from tests.e2e.conftest import HANG_GUARD, BotProcess, Lab, run_cli, served, start_bot

FIXTURES = Path(__file__).parent.parent / "fixtures"
# The faults Discord answers, as the emulator injects them. A 5xx is a 503: discord.py itself
# retries 500, 502, 504 and 524 four times over 25 s before the bot hears of it.
ANSWERED = {
    "5xx": {"status": 503},
    "403": {"status": 403, "code": 50013},
    "50007": {"status": 403, "code": 50007},
}
PARTS = range(1, 6)
DIGEST = DIGEST_PAPERS[5]
ALERTS = ALERT_PAPERS[5]


def daily_list(count: int, *, first: int = 1) -> list[dict[str, Any]]:
    """Today's Hugging Face list (API answer): papers ``first``.. ``first + count - 1``."""
    template = json.loads((FIXTURES / "hf_daily_2024-07-31.json").read_text())[0]
    today = datetime.now(UTC).strftime("%Y-%m-%dT06:00:00.000Z")
    answer = []
    for n in range(first, first + count):
        entry = copy.deepcopy(template)
        entry["paper"].update(
            id=f"2601.{n:05d}",
            title=title(n),
            summary=ABSTRACT,
            ai_summary=None,
            upvotes=1000 - n,
            submittedOnDailyAt=today,
        )
        entry["title"] = title(n)
        answer.append(entry)
    return answer


def counted(messages: list[Json]) -> Counter[str]:
    return counted_in(embed.get("description") or "" for m in messages for embed in m.get("embeds") or [])


def footers(messages: list[Json], prefix: str) -> list[str]:
    texts = [((m.get("embeds") or [{}])[0].get("footer") or {}).get("text", "") for m in messages]
    return [t for t in texts if t.startswith(prefix)]


@pytest.fixture
def once_env(bot_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    # A dead process's sends are taken over 3 s after its last renewal (90 s by default); Discord
    # must answer a part within 2.5 s (30 s by default), else the bot resumes it later.
    return {
        **bot_env,
        "PAPERBOT_DELIVERY__LEASE_SECONDS": "3",
        "PAPERBOT_DELIVERY__SEND_TIMEOUT_SECONDS": "2.5",
        "PAPERBOT_SEARCH__REFRESH_SECONDS": "0.5",
    }


async def ingest(env: dict[str, str], cwd: Path, name: str, papers: list[dict[str, Any]]) -> None:
    """``paperbot ingest`` in its own process (new papers queue their alerts)."""
    answer = cwd / name
    answer.write_text(json.dumps(papers))
    await run_cli(env, cwd, "ingest", str(answer))


@dataclass(frozen=True)
class Cell:
    """One server (its digest channel, its admin) and one member (their DMs) for a fault at a part."""

    fault: str
    part: int
    channel: Channel
    admin: User
    member: User


def cells(emu: DiscordEmulator, faults: list[str]) -> list[Cell]:
    built = []
    for fault in faults:
        for part in PARTS:
            guild = emu.create_guild(f"{fault} at part {part}")
            built.append(
                Cell(
                    fault,
                    part,
                    emu.create_channel(guild, "papers"),
                    emu.add_member(guild, "admin", manage_server=True),
                    emu.add_member(guild, f"member {fault} {part}"),
                )
            )
    return built


async def set_up_digests(emu: DiscordEmulator, cells: list[Cell]) -> None:
    now = datetime.now(UTC)
    for cell in cells:
        await served(
            emu,
            cell.admin,
            cell.channel,
            "digest setup",
            channel=cell.channel,
            time=f"{now:%H:%M}",
            timezone="UTC",
            max_papers=DIGEST,
        )


async def follow(emu: DiscordEmulator, cells: list[Cell]) -> None:
    for cell in cells:
        await served(emu, cell.member, cell.channel, "follow add", keyword="diffusion")


def assert_each_delivered_once(emu: DiscordEmulator, cell: Cell, *, alerts: range) -> None:
    """The digest: parts 1..5 once each, its 50 papers once each. The DMs: every matched paper
    once, no part of any batch twice."""
    posted = footers(emu.messages(cell.channel), "digest ")
    assert len(posted) == 5 and len(set(posted)) == 5, (cell.fault, cell.part, posted)
    assert counted(emu.messages(cell.channel)) == numbers(1, DIGEST), (cell.fault, cell.part)
    dms = emu.dms(cell.member)
    assert counted(dms) == numbers(alerts.start, alerts.stop - 1), (cell.fault, cell.part)
    parts = footers(dms, "alerts ")
    assert len(parts) == len(set(parts)), (cell.fault, cell.part, parts)


async def settled(db: str) -> None:
    """Until the ledgers are closed: no digest claimed, no DM batch open, no alert waiting. From
    then on no process sends anything (the ledgers forbid it): what arrived is final."""

    def closed() -> bool:
        with sqlite3.connect(db) as conn:
            open_posts = conn.execute("SELECT count(*) FROM digest_posts WHERE state = 'claimed'").fetchone()
            open_batches = conn.execute(
                "SELECT count(*) FROM alert_batches WHERE state = 'sending'"
            ).fetchone()
            waiting = conn.execute(
                "SELECT count(*) FROM alerts WHERE state IN ('pending', 'sending')"
            ).fetchone()
        return open_posts[0] == open_batches[0] == waiting[0] == 0

    async with asyncio.timeout(HANG_GUARD):  # a guard against a hung bot, no measure of speed
        while not await asyncio.to_thread(closed):  # noqa: ASYNC110 (another process writes the ledger)
            await asyncio.sleep(0.2)  # polling the ledger for an event, not timing anything


def chatter(emu: DiscordEmulator, user: User, channel: Any, count: int = 200) -> None:
    for n in range(count):
        emu.say(user, channel, f"chatter {n}")


async def test_each_answered_fault_at_each_part_then_restart_and_commands_deliver_once(
    emulator: DiscordEmulator, once_env: dict[str, str], tmp_path: Path, bots: list[BotProcess]
) -> None:
    """5xx, 403, 50007 and a held-back answer (timeout) at part 1..5 of a digest and of an alert DM,
    each fault lasting until it is fixed; then the process is killed, Discord recovers (the admin
    fixes the channel, the member opens their DMs), a new process starts, the admins run
    ``/digest resume`` and the members ``/follow list``: everything arrives, once."""
    emu = emulator
    fleet = cells(emu, [*ANSWERED, "timeout"])
    await run_cli(once_env, tmp_path, "sync")
    await ingest(once_env, tmp_path, "today.json", daily_list(DIGEST + EXTRA_LISTED))
    first = await start_bot(once_env, tmp_path, bots)
    await follow(emu, fleet)
    faults: list[Fault] = []
    for cell in fleet:
        how: dict[str, Any] = ANSWERED.get(cell.fault, {"hang": True})
        faults.append(emu.fail_message(cell.channel, at=cell.part, persist=True, **how))
        faults.append(emu.fail_message(emu.open_dm(cell.member), at=cell.part, persist=True, **how))
    await set_up_digests(emu, fleet)
    late = range(DIGEST + EXTRA_LISTED + 1, DIGEST + EXTRA_LISTED + 1 + ALERTS)
    await ingest(once_env, tmp_path, "later.json", daily_list(ALERTS, first=late.start))  # the DMs
    await emu.wait_for(lambda: all(f.hits for f in faults), wait=HANG_GUARD)  # every cell met its fault

    await first.kill()  # restart: a new process must finish what the dead one left
    for fault in faults:
        fault.clear()
    await start_bot(once_env, tmp_path, bots)
    for cell in fleet:
        if cell.fault in ("403", "50007"):  # a paused digest waits for its admin...
            await served(emu, cell.admin, cell.channel, "digest resume")
        if cell.fault in ("403", "50007"):  # ...refused DMs for the member to come back
            await served(emu, cell.member, cell.channel, "follow list")
    await emu.wait_for(
        lambda: all(len(footers(emu.messages(c.channel), "digest ")) >= 5 for c in fleet), wait=HANG_GUARD
    )
    await settled(once_env["PAPERBOT_DB"])
    for cell in fleet:
        assert_each_delivered_once(emu, cell, alerts=late)


async def test_killed_at_each_part_is_finished_once_by_the_next_process(
    emulator: DiscordEmulator, once_env: dict[str, str], tmp_path: Path, bots: list[BotProcess]
) -> None:
    """kill -9 while part k (1..5) is created but its answer held back: the five digests die at
    once in the first process; the five members' DMs (sent one member after another) each kill
    one process. Every channel and DM is busy with 200 messages before the next process."""
    emu = emulator
    fleet = cells(emu, ["kill"])
    # Each kill comes as soon as the part is created, well within a 4 s send timeout.
    once_env = {
        **once_env,
        "PAPERBOT_DELIVERY__LEASE_SECONDS": "5",
        "PAPERBOT_DELIVERY__SEND_TIMEOUT_SECONDS": "4",
    }
    await run_cli(once_env, tmp_path, "sync")
    await ingest(once_env, tmp_path, "today.json", daily_list(DIGEST + EXTRA_LISTED))
    process = await start_bot(once_env, tmp_path, bots)
    posts = [emu.fail_message(c.channel, at=c.part, hang=True) for c in fleet]
    await set_up_digests(emu, fleet)
    await emu.wait_for(lambda: all(f.hits for f in posts), wait=HANG_GUARD)
    await process.kill()  # every digest dies with its part k created, unrecorded
    process = await start_bot(once_env, tmp_path, bots)
    await follow(emu, fleet)
    dms = [emu.fail_message(emu.open_dm(c.member), at=c.part, hang=True) for c in fleet]
    late = range(DIGEST + EXTRA_LISTED + 1, DIGEST + EXTRA_LISTED + 1 + ALERTS)
    await ingest(once_env, tmp_path, "later.json", daily_list(ALERTS, first=late.start))
    killed = 0
    while killed < len(dms):
        # The next member's part is created and unanswered: kill before the send times out.
        await emu.wait_for(lambda done=killed: sum(f.hits for f in dms) > done, wait=HANG_GUARD)
        await process.kill()
        killed = sum(f.hits for f in dms)
        for cell in fleet:  # busy: every part is 200 messages back
            chatter(emu, cell.admin, cell.channel)
            chatter(emu, cell.member, emu.open_dm(cell.member))
        process = await start_bot(once_env, tmp_path, bots)
    await emu.wait_for(lambda: all(len(counted(emu.dms(c.member))) >= ALERTS for c in fleet), wait=HANG_GUARD)
    await settled(once_env["PAPERBOT_DB"])
    for cell in fleet:
        assert_each_delivered_once(emu, cell, alerts=late)
    sent = [body for method, path, body in emu.requests if method == "POST" and path.endswith("/messages")]
    assert all(isinstance(b, dict) and b.get("nonce") and b.get("enforce_nonce") for b in sent if b)


async def test_two_processes_started_together_on_the_same_shards_one_runs_and_sends_everything_once(
    emulator: DiscordEmulator, once_env: dict[str, str], tmp_path: Path, bots: list[BotProcess], lab: Lab
) -> None:
    """Both would receive every command and answer it (the second "already acknowledged", or the
    first's write answered as "You already follow"): the one that claims the shards second stops
    at once, saying who runs them, and the other sends everything once."""
    emu, channel, admin, alice = emulator, lab.channel, lab.admin, lab.alice
    chosen = DIGEST_PAPERS[3]
    await ingest(once_env, tmp_path, "today.json", daily_list(chosen + EXTRA_LISTED))
    await run_cli(once_env, tmp_path, "sync")
    pair = [BotProcess(once_env, tmp_path), BotProcess(once_env, tmp_path)]
    await asyncio.gather(*(bot.start() for bot in pair))
    bots.extend(pair)
    refused = await first_to_exit(pair)
    assert await refused.wait() == 1
    assert "all shards already run in another paperbot process" in refused.log()
    running = next(bot for bot in pair if bot is not refused)
    await running.wait_for_log("digest catch-up at start")
    await served(emu, alice, channel, "follow add", keyword="diffusion")
    now = datetime.now(UTC)
    await served(
        emu,
        admin,
        channel,
        "digest setup",
        channel=channel,
        time=f"{now:%H:%M}",
        timezone="UTC",
        max_papers=chosen,
    )
    more = range(chosen + EXTRA_LISTED + 1, chosen + EXTRA_LISTED + 4)  # three new matching papers
    await ingest(once_env, tmp_path, "more.json", daily_list(len(more), first=more.start))
    await emu.wait_for(lambda: len(footers(emu.messages(channel), "digest ")) >= 3, wait=HANG_GUARD)
    await emu.wait_for(lambda: len(counted(emu.dms(alice))) >= 3, wait=HANG_GUARD)
    await settled(once_env["PAPERBOT_DB"])
    assert len(footers(emu.messages(channel), "digest ")) == 3
    assert counted(emu.messages(channel)) == numbers(1, chosen)
    assert counted(emu.dms(alice)) == numbers(more.start, more.stop - 1)


async def first_to_exit(processes: list[BotProcess]) -> BotProcess:
    waits = {asyncio.ensure_future(bot.wait()): bot for bot in processes}
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return waits[done.pop()]
