"""The real bot process while another process writes the same database: interactions are answered
within Discord's 3 s however long the other writer holds the lock, and what the other process
ingested becomes visible (autocomplete) without a restart."""

from __future__ import annotations

import asyncio
import copy
import json
import sqlite3
from pathlib import Path
from typing import Any

from bot.domain.admission import BUSY_MESSAGE
from bot.sandbox.emulator import DiscordEmulator
from bot.sandbox.model import User
from tests.e2e.conftest import BotProcess, Lab, answer_text, run_cli, served, start_bot

FIXTURES = Path(__file__).parent.parent / "fixtures"


def hf_answer(title: str, arxiv_id: str) -> list[dict[str, Any]]:
    """A one-paper Hugging Face API answer, shaped like the recorded one."""
    entry = copy.deepcopy(json.loads((FIXTURES / "hf_daily_2024-07-31.json").read_text())[0])
    entry["paper"].update(id=arxiv_id, title=title, summary=f"{title}: a study.", ai_keywords=["lattices"])
    entry["title"] = title
    return [entry]


async def loaded_bot(env: dict[str, str], cwd: Path, bots: list[BotProcess]) -> BotProcess:
    await run_cli(env, cwd, "ingest")
    await run_cli(env, cwd, "sync")
    return await start_bot(env, cwd, bots)


async def test_twenty_interactions_with_writes_are_answered_in_time_while_another_process_holds_the_lock(
    emulator: DiscordEmulator, bot_env: dict[str, str], tmp_path: Path, bots: list[BotProcess], lab: Lab
) -> None:
    emu, channel, admin = emulator, lab.channel, lab.admin
    members = [lab.alice, *(emu.add_member(lab.guild, f"member{n}") for n in range(3))]
    # The lock is held until all 20 have their first answer, which on a busy machine can take
    # longer than the default 10 s a deferred write waits before it says "busy": this test is
    # about answering in time and saving once the lock frees, so the writes may wait it out.
    await loaded_bot({**bot_env, "PAPERBOT_DELIVERY__WRITE_WAIT_SECONDS": "60"}, tmp_path, bots)
    await served(emu, members[0], channel, "follow add", keyword="pruning")

    # A CLI ingest's transaction: it holds SQLite's write lock until it commits.
    ingest = sqlite3.connect(bot_env["PAPERBOT_DB"], isolation_level=None, check_same_thread=False)
    ingest.execute("BEGIN IMMEDIATE")
    try:
        # The writes come first: they take the bot's free slots (bot.domain.admission) and defer to
        # wait for the lock. The reads behind them are served or told "busy" at once, depending on
        # how loaded this machine is right now: either is a timely answer, and what this test
        # asserts holds for both (it used to expect every one served, which a loaded machine's
        # admission control does not promise).
        asked: list[tuple[User, str, dict[str, Any]]] = [
            *(
                (members[n], "follow add", {"keyword": keyword})
                for n, keyword in enumerate(("diffusion", "reward model", "KV cache", "lottery"))
            ),
            (members[0], "follow remove", {"keyword": "pruning"}),
            (members[2], "follow pause", {}),
            (admin, "digest setup", {"channel": channel, "time": "23:59", "timezone": "UTC"}),
        ]
        writes = [emu.send_slash(user, channel, command, **options) for user, command, options in asked]
        records = list(writes)
        for n in range(5):
            records.append(
                emu.send_slash(members[n % 4], channel, "papers search", query="federated learning")
            )
        for typed in ("federatd", "diffusion", "pruning", "kv cache"):
            records.append(emu.send_autocomplete(members[1], channel, "papers show", "paper", typed))
        records.append(emu.send_slash(members[2], channel, "papers random"))
        records.append(emu.send_slash(members[3], channel, "papers today"))
        records.append(emu.send_slash(members[1], channel, "follow list"))
        records.append(emu.send_slash(admin, channel, "digest show"))
        assert len(records) == 20
        # Every one gets its first answer (or "thinking…") while the lock is still held.
        await emu.wait_for(lambda: all(r.callback_type is not None or r.late for r in records), wait=30)
        assert [r for r in records if r.late] == []  # none refused for answering after 3 s
        assert [r for r in records if r.rejected] == []
    finally:
        ingest.execute("COMMIT")  # the ingest finishes
        ingest.close()
    # The writes that waited go through now, and say so.
    await emu.wait_for(lambda: all(r.done() for r in records), wait=70)
    # A write told "busy" (a machine too loaded to start it in time) is sent again, as the answer
    # asks: the lock is free by now.
    texts = []
    for record, (user, command, options) in zip(writes, asked, strict=True):
        if BUSY_MESSAGE in answer_text(record):
            record = await served(emu, user, channel, command, **options)
        texts.append(answer_text(record))
    assert sum("Following" in t for t in texts[:4]) == 4, texts
    assert "no longer follow" in texts[4], texts
    assert not any("went wrong" in t for t in texts), texts
    assert emu.unknown_routes == []


async def test_a_paper_ingested_by_the_cli_while_the_bot_runs_is_found_by_autocomplete(
    emulator: DiscordEmulator, bot_env: dict[str, str], tmp_path: Path, bots: list[BotProcess], lab: Lab
) -> None:
    emu, channel, alice = emulator, lab.channel, lab.alice
    env = {**bot_env, "PAPERBOT_SEARCH__REFRESH_SECONDS": "0.5"}
    await loaded_bot(env, tmp_path, bots)
    title = "Zyxquant Lattices for Sparse Attention"
    before = await emu.autocomplete(alice, channel, "papers show", "paper", "zyxquant lattices")
    assert title not in [c["name"] for c in before]

    answer = tmp_path / "late.json"
    answer.write_text(json.dumps(hf_answer(title, "2408.99999")))
    await run_cli(env, tmp_path, "ingest", str(answer))  # another process, while the bot runs

    async def found() -> bool:
        while True:
            choices = await emu.autocomplete(alice, channel, "papers show", "paper", "zyxquant lattices")
            if any(c["name"].startswith(title) for c in choices):
                return True
            await asyncio.sleep(0.2)  # polling what a member would retype; not a timing assertion

    async with asyncio.timeout(30):
        assert await found()
    shown = await emu.slash(alice, channel, "papers show", paper=title)
    assert title in shown.response["embeds"][0]["title"]
