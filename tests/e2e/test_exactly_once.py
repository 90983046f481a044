"""Exactly once with real processes, where a real process is the point (docs/reliability.md).

* ``kill -9`` at each part of a 3-part digest and of a 3-part alert DM: the emulator creates part
  k but holds its answer back (as a dropped connection would), the bot is SIGKILLed, 200 other
  messages arrive, and a new process (new instance id) resumes after the dead one's lease.
* Two ``paperbot run`` processes started together on one database: one digest, one copy of each
  alert.
"""

from __future__ import annotations

import asyncio
import copy
import json
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.emulator import DiscordEmulator
from bot.sandbox.model import Json, User
from tests.delivery_cells import ABSTRACT, title
from tests.delivery_cells import counted as counted_in
from tests.e2e.conftest import BotProcess, Lab, run_cli, start_bot

FIXTURES = Path(__file__).parent.parent / "fixtures"


def daily_list(count: int) -> list[dict[str, Any]]:
    """Today's Hugging Face list (API answer) with ``count`` papers: a 3-part digest at 35."""
    template = json.loads((FIXTURES / "hf_daily_2024-07-31.json").read_text())[0]
    today = datetime.now(UTC).strftime("%Y-%m-%dT06:00:00.000Z")
    answer = []
    for n in range(1, count + 1):
        entry = copy.deepcopy(template)
        entry["paper"].update(
            id=f"2601.{n:05d}",
            title=title(n),
            summary=ABSTRACT,
            ai_summary=None,
            upvotes=200 - n,
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
    answer = tmp_path / "today.json"
    answer.write_text(json.dumps(daily_list(45)))
    # A dead process's sends are taken over 2 s after its last renewal (90 s by default).
    return {**bot_env, "PAPERBOT_DELIVERY__LEASE_SECONDS": "2", "PAPERBOT_SEARCH__REFRESH_SECONDS": "0.5"}


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

    async with asyncio.timeout(30):
        while not await asyncio.to_thread(closed):  # noqa: ASYNC110 (another process writes the ledger)
            await asyncio.sleep(0.2)  # polling the ledger for an event, not timing anything


def chatter(emu: DiscordEmulator, user: User, channel: Any, count: int = 200) -> None:
    for n in range(count):
        emu.say(user, channel, f"chatter {n}")


@pytest.mark.parametrize("part", [1, 2, 3])
async def test_digest_killed_at_each_part_is_finished_once_by_the_next_process(
    emulator: DiscordEmulator,
    once_env: dict[str, str],
    tmp_path: Path,
    bots: list[BotProcess],
    lab: Lab,
    part: int,
) -> None:
    emu, channel, admin = emulator, lab.channel, lab.admin
    await run_cli(once_env, tmp_path, "ingest", str(tmp_path / "today.json"))
    await run_cli(once_env, tmp_path, "sync")
    first = await start_bot(once_env, tmp_path, bots)

    emu.inject("POST", f"/channels/{channel.id}/messages", status=0, hang=True, skip=part - 1)
    now = datetime.now(UTC)
    await emu.slash(
        admin, channel, "digest setup", channel=channel, time=f"{now:%H:%M}", timezone="UTC", max_papers=35
    )
    await emu.wait_for(lambda: len(footers(emu.messages(channel), "digest ")) == part, wait=30)
    await first.kill()  # SIGKILL: part `part` is in the channel, the ledger never heard of it
    chatter(emu, admin, channel)  # a busy channel: the part is 200 messages back

    await start_bot(once_env, tmp_path, bots)
    await emu.wait_for(lambda: len(footers(emu.messages(channel), "digest ")) >= 3, wait=30)
    await settled(once_env["PAPERBOT_DB"])
    posted = footers(emu.messages(channel), "digest ")
    assert sorted(posted) == sorted(set(posted)) and len(posted) == 3, posted
    assert set(counted(emu.messages(channel)).values()) == {1}
    assert len(counted(emu.messages(channel))) == 35
    sent = [body for method, path, body in emu.requests if method == "POST" and path.endswith("/messages")]
    assert all(isinstance(b, dict) and b.get("nonce") and b.get("enforce_nonce") for b in sent if b)


@pytest.mark.parametrize("part", [1, 2, 3])
async def test_alert_dm_killed_at_each_part_is_finished_once_by_the_next_process(
    emulator: DiscordEmulator,
    once_env: dict[str, str],
    tmp_path: Path,
    bots: list[BotProcess],
    lab: Lab,
    part: int,
) -> None:
    emu, channel, alice = emulator, lab.channel, lab.alice
    await run_cli(once_env, tmp_path, "sync")
    first = await start_bot(once_env, tmp_path, bots)
    await emu.slash(alice, channel, "follow add", keyword="diffusion")

    emu.inject("POST", "/channels/*/messages", status=0, hang=True, skip=part - 1)
    answer = tmp_path / "forty.json"
    answer.write_text(json.dumps(daily_list(40)))
    await run_cli(once_env, tmp_path, "ingest", str(answer))  # queues 40 alerts: a 3-part DM
    await emu.wait_for(lambda: len(emu.dms(alice)) == part, wait=30)
    await first.kill()
    dm = emu.dm_channel(alice)
    assert dm is not None
    chatter(emu, alice, dm)

    await start_bot(once_env, tmp_path, bots)
    await emu.wait_for(lambda: len(counted(emu.dms(alice))) >= 40, wait=30)
    await settled(once_env["PAPERBOT_DB"])
    assert counted(emu.dms(alice)) == Counter(f"{n:03d}" for n in range(1, 41))
    parts = footers(emu.dms(alice), "alerts ")
    assert len(parts) == len(set(parts)), parts


async def test_two_processes_started_together_send_everything_once(
    emulator: DiscordEmulator, once_env: dict[str, str], tmp_path: Path, bots: list[BotProcess], lab: Lab
) -> None:
    emu, channel, admin, alice = emulator, lab.channel, lab.admin, lab.alice
    await run_cli(once_env, tmp_path, "ingest", str(tmp_path / "today.json"))
    await run_cli(once_env, tmp_path, "sync")
    await asyncio.gather(start_bot(once_env, tmp_path, bots), start_bot(once_env, tmp_path, bots))
    await emu.slash(alice, channel, "follow add", keyword="diffusion")
    now = datetime.now(UTC)
    await emu.slash(
        admin, channel, "digest setup", channel=channel, time=f"{now:%H:%M}", timezone="UTC", max_papers=35
    )
    answer = tmp_path / "more.json"
    more = daily_list(48)[45:]  # three new matching papers
    answer.write_text(json.dumps(more))
    await run_cli(once_env, tmp_path, "ingest", str(answer))
    await emu.wait_for(lambda: len(footers(emu.messages(channel), "digest ")) >= 3, wait=30)
    await emu.wait_for(lambda: len(counted(emu.dms(alice))) >= 3, wait=30)
    await settled(once_env["PAPERBOT_DB"])
    assert len(footers(emu.messages(channel), "digest ")) == 3
    assert set(counted(emu.messages(channel)).values()) == {1}
    assert counted(emu.dms(alice)) == Counter({"046": 1, "047": 1, "048": 1})
