"""Three ``paperbot run`` processes over 6 shards against the emulator, one database (README
"Scaling out"; docs/reliability.md, the shard rows).

60 servers (ten on each shard) post their digests in the same minute; 200 members (set up through
their own servers' shards) follow keywords; an ingest of 300 papers matches 20 for each member.
The process running shards 2-3 is killed (SIGKILL) in the middle of a digest (its part 2 is in the
channel, its answer never came) and of an alert DM, then started again. Every server gets its
digest once, every member each matching paper once, the dead process's shards are served again,
and its source schedule is taken over by another process.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.domain.admission import BUSY_MESSAGE
from bot.sandbox.emulator import DiscordEmulator
from bot.sandbox.model import Channel, Guild, InteractionRecord, Json, User, snowflake
from bot.sandbox.shards import guild_id_on_shard, shard_of
from tests.backends import postgres_server, postgres_url  # noqa: F401 (fixtures)
from tests.e2e.conftest import BotProcess, run_cli, start_bot
from tests.e2e.test_exactly_once import footers

FIXTURES = Path(__file__).parent.parent / "fixtures"
SHARDS = 6
SPLIT = ("0-1", "2-3", "4-5")
VICTIM = 1  # the process running shards 2-3
SERVERS, MEMBERS, PAPERS = 60, 200, 300
TOPICS = [
    "quokka",
    "axolotl",
    "narwhal",
    "pangolin",
    "okapi",
    "tapir",
    "wombat",
    "capybara",
    "ibex",
    "lemur",
    "marmot",
    "ocelot",
    "puffin",
    "serval",
    "vicuna",
]
MAX_PAPERS = 20  # a two-part digest
TITLE = re.compile(r"(?:Paper|Listed paper) (\d{3})")
ALERTED = re.compile(r"Paper (\d{3}) on")


def hf_answer(titles: list[tuple[str, str]], upvotes_from: int) -> list[dict[str, Any]]:
    """Today's Hugging Face list (API answer) with these (arXiv id, title) papers."""
    template = json.loads((FIXTURES / "hf_daily_2024-07-31.json").read_text())[0]
    today = datetime.now(UTC).strftime("%Y-%m-%dT06:00:00.000Z")
    answer = []
    for n, (arxiv_id, title) in enumerate(titles):
        entry = copy.deepcopy(template)
        entry["paper"].update(
            id=arxiv_id,
            title=title,
            summary=("We study how a method behaves at scale and report what we found. " * 5)[:300],
            ai_summary=None,
            upvotes=upvotes_from - n,
            submittedOnDailyAt=today,
        )
        entry["title"] = title
        answer.append(entry)
    return answer


def topic_of(paper: int) -> str:
    return TOPICS[(paper - 1) % len(TOPICS)]


def matching(topic: str) -> set[str]:
    return {f"{n:03d}" for n in range(1, PAPERS + 1) if topic_of(n) == topic}


def titles_in(messages: list[Json], pattern: re.Pattern[str] = TITLE) -> Counter[str]:
    found: Counter[str] = Counter()
    for message in messages:
        for embed in message.get("embeds") or []:
            found.update(pattern.findall(embed.get("description") or ""))
    return found


async def answered(
    emu: DiscordEmulator, user: User, channel: Channel, command: str, /, **options: Any
) -> Json:
    """Run a command as a member would: asked again while the bot says it is busy (overload is the
    admission control's answer, and a member simply tries again)."""
    while True:
        record: InteractionRecord = await emu.slash(user, channel, command, wait=60, **options)
        reply = record.response or {}
        if BUSY_MESSAGE not in (reply.get("content") or ""):
            return reply


async def in_batches(jobs: list[Any], size: int = 12) -> list[Any]:
    results = []
    for start in range(0, len(jobs), size):
        results += await asyncio.gather(*jobs[start : start + size])
    return results


class Ledger:
    """Counts read from the store the processes share (SQLite file or PostgreSQL database), as a
    test looks at it from outside."""

    def __init__(self, env: dict[str, str]) -> None:
        self.url = env.get("PAPERBOT_DATABASE_URL")
        self.path = env["PAPERBOT_DB"]

    async def count(self, sql: str, *args: object) -> int:
        if self.url is None:
            return await asyncio.to_thread(self._sqlite_count, sql, args)
        numbered = iter(range(1, sql.count("?") + 1))
        connection = await asyncpg.connect(self.url)
        try:
            return int(await connection.fetchval(re.sub(r"\?", lambda _: f"${next(numbered)}", sql), *args))
        finally:
            await connection.close()

    def _sqlite_count(self, sql: str, args: tuple[object, ...]) -> int:
        with sqlite3.connect(self.path) as conn:
            return int(conn.execute(sql, args).fetchone()[0])

    async def settled(self) -> None:
        """Until no digest is claimed, no DM batch open, no alert waiting: from then on no process
        sends anything (the ledgers forbid it), so what arrived is final."""
        await until(
            lambda: self.count(
                "SELECT (SELECT count(*) FROM digest_posts WHERE state = 'claimed') "
                "+ (SELECT count(*) FROM alert_batches WHERE state = 'sending') "
                "+ (SELECT count(*) FROM alerts WHERE state IN ('pending', 'sending'))"
            ),
            equals=0,
            wait=60,
        )


async def until(
    count: Callable[[], Awaitable[int]], *, equals: int | None = None, at_least: int = 0, wait: float = 120
) -> None:
    """Until ``count()`` is ``equals`` (or at least ``at_least``)."""
    async with asyncio.timeout(wait):
        while True:
            found = await count()
            if found == equals if equals is not None else found >= at_least:
                return
            await asyncio.sleep(0.05)  # polling the ledger for an event, not timing anything


@pytest.fixture(params=["sqlite", "postgres"])
def shard_env(bot_env: dict[str, str], tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    """The processes' environment, on one SQLite file or one PostgreSQL database."""
    store = {}
    if request.param == "postgres":
        store["PAPERBOT_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    (tmp_path / "listed.json").write_text(
        json.dumps(hf_answer([(f"2602.{n:05d}", f"Listed paper {n:03d}") for n in range(1, 41)], 900))
    )
    papers = [(f"2603.{n:05d}", f"Paper {n:03d} on {topic_of(n)}") for n in range(1, PAPERS + 1)]
    (tmp_path / "matching.json").write_text(json.dumps(hf_answer(papers, 500)))
    return {
        **bot_env,
        # A dead process's deliveries are taken over 2 s after its last renewal (90 s by default),
        # its source schedule 6 s after (45 s by default). A part unanswered for 1.5 s (30 s by
        # default) is given up before the lease could pass to another process.
        "PAPERBOT_DELIVERY__LEASE_SECONDS": "2",
        "PAPERBOT_DELIVERY__SEND_TIMEOUT_SECONDS": "1.5",
        "PAPERBOT_SOURCES__LEASE_SECONDS": "6",
        "PAPERBOT_SEARCH__REFRESH_SECONDS": "0.5",
        "PAPERBOT_SHARD_COUNT": str(SHARDS),
        **store,
    }


def process(env: dict[str, str], tmp_path: Path, index: int) -> tuple[dict[str, str], tuple[str, ...]]:
    """Process ``index``'s environment (its own heartbeat file) and options."""
    own = {**env, "PAPERBOT_HEALTH__FILE": str(tmp_path / f"heartbeat-{index}.json")}
    return own, ("--shards", SPLIT[index])


async def test_three_processes_over_six_shards_send_everything_once_through_a_kill(
    emulator: DiscordEmulator, shard_env: dict[str, str], tmp_path: Path, bots: list[BotProcess]
) -> None:
    # A large bot's IDENTIFY concurrency: the six shards may start together.
    emulator.identify_limiter.max_concurrency = 16
    # Discord lets a bot open 10 DM channels per 10 s: 200 members' first DMs would take 200 s.
    # Rate limits have their own tests (tests/e2e/test_bot_process.py); this one is about shards.
    emulator.rate_limits = None
    await _scenario(emulator, shard_env, tmp_path, bots)


async def _scenario(
    emu: DiscordEmulator, env: dict[str, str], tmp_path: Path, bots: list[BotProcess]
) -> None:
    ledger = Ledger(env)
    servers: list[tuple[Guild, Channel, User]] = []
    for n in range(SERVERS):
        guild = emu.create_guild(f"lab {n}", guild_id=guild_id_on_shard(n % SHARDS, SHARDS, near=snowflake()))
        admin = emu.add_member(guild, f"admin {n}", manage_server=True)
        servers.append((guild, emu.create_channel(guild, "papers"), admin))
    members = [(emu.add_member(servers[i % SERVERS][0], f"m{i}"), i % SERVERS) for i in range(MEMBERS)]

    await run_cli(env, tmp_path, "ingest", str(tmp_path / "listed.json"))
    await run_cli(env, tmp_path, "sync")
    # The victim starts first: it holds the source schedule, so its death shows the takeover.
    victim_env, victim_args = process(env, tmp_path, VICTIM)
    victim = await start_bot(victim_env, tmp_path, bots, *victim_args, wait=120)
    assert victim.process is not None
    pid = victim.process.pid
    holds = "SELECT count(*) FROM leases WHERE name = 'sources' AND owner LIKE ?"
    await until(lambda: ledger.count(holds, f"%:{pid}:%"), equals=1)
    survivors = [process(env, tmp_path, i) for i in (0, 2)]
    others = await asyncio.gather(
        *(start_bot(own, tmp_path, bots, *args, wait=120) for own, args in survivors)
    )
    assert emu.connected_shards() == set(range(SHARDS))
    assert emu.identify_refused == 0  # the processes paced their IDENTIFYs as Discord allows

    # Every member follows one topic from their own server: each command reaches the process
    # running that server's shard (the emulator delivers it to that shard's session only).
    follows = [
        answered(emu, user, servers[home][1], "follow add", keyword=TOPICS[i % len(TOPICS)])
        for i, (user, home) in enumerate(members)
    ]
    await in_batches(follows)
    assert await ledger.count("SELECT count(*) FROM follows") == MEMBERS

    # The victim hangs in its first server's digest: part 2 is created, its answer never comes.
    _, hung_channel, _ = next(s for s in servers if shard_of(s[0].id, SHARDS) == 2)
    emu.inject("POST", f"/channels/{hung_channel.id}/messages", status=0, hang=True, skip=1)
    # Every digest falls in one minute, set up before it comes: a time that passed before its
    # setup (the batches of setups can cross a minute boundary here) is tomorrow's, not caught up.
    minute = f"{datetime.now(UTC) + timedelta(minutes=2):%H:%M}"
    setups = [
        answered(
            emu,
            admin,
            channel,
            "digest setup",
            channel=channel,
            time=minute,
            timezone="UTC",
            max_papers=MAX_PAPERS,
        )
        for _, channel, admin in servers
    ]
    for reply in await in_batches(setups):
        assert "digest" in json.dumps(reply).lower()
    await emu.wait_for(lambda: len(footers(emu.messages(hung_channel), "digest ")) == 2, wait=300)

    # The ingest queues 20 alerts for each member; the victim dies while it sends one of them.
    await run_cli(env, tmp_path, "ingest", str(tmp_path / "matching.json"))
    await until(
        lambda: ledger.count(
            "SELECT count(*) FROM alert_batches WHERE state = 'sending' AND owner LIKE ?", f"%:{pid}:%"
        ),
        at_least=1,
    )
    await victim.kill()
    await emu.wait_for(lambda: emu.connected_shards() == {0, 1, 4, 5}, wait=30)
    # Its source schedule goes to a survivor within the lease (6 s here, 45 s by default).
    watching = [
        asyncio.ensure_future(b.wait_for_log("source schedule taken over from", wait=60)) for b in others
    ]
    done, waiting = await asyncio.wait(watching, return_when=asyncio.FIRST_COMPLETED)
    for task in waiting:
        task.cancel()
    assert f":{pid}:" in done.pop().result()
    assert await ledger.count(holds, f"%:{pid}:%") == 0

    # Started again: its shards are served, its interrupted digest finished once.
    restarted = await start_bot(victim_env, tmp_path, bots, *victim_args, wait=120)
    await emu.wait_for(lambda: emu.connected_shards() == set(range(SHARDS)), wait=30)
    shown = await answered(emu, servers[2][2], servers[2][1], "digest show")
    assert "UTC" in json.dumps(shown)

    await ledger.settled()
    for guild, channel, _ in servers:
        posted = emu.messages(channel)
        parts = footers(posted, "digest ")
        assert len(parts) == len(set(parts)) == 2, (guild.name, parts)
        assert set(titles_in(posted).values()) == {1} and len(titles_in(posted)) == MAX_PAPERS, guild.name
    for i, (user, _) in enumerate(members):
        got = titles_in(emu.dms(user), ALERTED)
        assert got == Counter(matching(TOPICS[i % len(TOPICS)])), (user.username, got)
    # Commands were published once (`paperbot sync`), never by a starting process.
    assert len([r for r in emu.requests if r[0] == "PUT" and r[1].endswith("/commands")]) == 1
    assert restarted.process is not None and restarted.process.returncode is None
