"""``python -m bench alert-fanout``: follow alerts for (member, paper) pairs delivered by several
sharded ``paperbot run`` processes sharing one database.

M members (spread over 6 servers, one per shard) follow one keyword; an ingest of P papers that all
match it queues M x P alerts. Three processes (``--shard-count 6 --shards 0-1 / 2-3 / 4-5``) claim
the members' DM batches through the database (leased, so each pair goes out once). Printed: pairs
per second from the end of the ingest to the last pair in a DM, messages, duplicates, and how the
batches were shared between the processes. The emulator does not rate limit here: Discord would
allow 10 new DM channels per 10 s and 50 requests/s per bot, which would measure Discord, not paperbot
(the floor it sets is printed beside).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench import cache
from bench.corpus import generate
from bench.load import bot_env
from bench.postgres import named_database
from bot.domain.models import ListedPaper, Source
from bot.domain.shards import format_shard_ids
from bot.sandbox.emulator import DiscordEmulator
from bot.sandbox.model import Channel, Json, snowflake
from bot.sandbox.ratelimit import GLOBAL_PER_SECOND
from bot.sandbox.shards import guild_id_on_shard
from bot.services.container import open_services
from bot.settings import Settings

KEYWORD = "fanoutbench"
PAIR = re.compile(r"Fanoutbench paper (\d{6})")
SHARDS = 6
DM_OPENS_PER_SECOND = 1.0  # Discord: 10 new DM channels per 10 s


class CountingEmulator(DiscordEmulator):
    """Counts every (member, paper) pair as its DM arrives, and when the last one came."""

    def __init__(self) -> None:
        super().__init__(rate_limited=False, max_concurrency=16)
        self.pairs: Counter[tuple[int, str]] = Counter()
        self.dm_messages = 0
        self.last_pair_at = 0.0

    def _message(self, channel: Channel, body: Json, **kwargs: Any) -> Json:
        message = super()._message(channel, body, **kwargs)
        if channel.type == 1 and channel.recipient is not None:
            self.dm_messages += 1
            user = channel.recipient.id
            for embed in body.get("embeds") or []:
                for paper in PAIR.findall(embed.get("description") or ""):
                    self.pairs[(user, paper)] += 1
            self.last_pair_at = time.perf_counter()
        return message


def split(processes: int) -> list[str]:
    """Shards 0-5 in ``processes`` contiguous runs: 3 -> 0-1, 2-3, 4-5."""
    per = -(-SHARDS // processes)
    return [format_shard_ids(tuple(range(s, min(s + per, SHARDS)))) for s in range(0, SHARDS, per)]


async def _prepare(settings: Settings, emu: CountingEmulator, members: int) -> None:
    """Six servers (one per shard) and the members following the keyword from them."""
    guilds = [
        emu.create_guild(f"server {shard}", guild_id=guild_id_on_shard(shard, SHARDS, near=snowflake()))
        for shard in range(SHARDS)
    ]
    async with open_services(settings, warm=False) as services:
        for i in range(members):
            guild = guilds[i % SHARDS]
            user = emu.add_member(guild, f"member {i}")
            await services.follows.add(user.id, guild.id, KEYWORD)


async def _ingest(settings: Settings, papers: int) -> None:
    today = datetime.now(UTC).date()
    listed = []
    for rank, item in enumerate(generate(papers, seed=43, first=20_000_000), 1):
        title = f"Fanoutbench paper {rank:06d}: {item.paper.title}"
        paper = dataclasses.replace(item.paper, title=title, source=Source.HF_API, first_listed=today)
        listed.append(ListedPaper(paper, today, rank))
    async with open_services(settings, warm=False) as services:
        await services.papers.ingest(listed)  # queues every member's alerts in the same transaction


SHARES = (
    "SELECT owner, count(*) FROM alert_batches b WHERE EXISTS "
    "(SELECT 1 FROM alerts a WHERE a.batch_id = b.id AND a.state = 'sent') GROUP BY owner"
)


async def _owners(settings: Settings) -> list[tuple[str, int]]:
    """DM batches that delivered something, per process."""
    if settings.database_url is None:
        with sqlite3.connect(settings.db) as conn:
            rows = conn.execute(SHARES).fetchall()
    else:
        connection = await asyncpg.connect(settings.database_url)
        try:
            rows = [tuple(row) for row in await connection.fetch(SHARES)]
        finally:
            await connection.close()
    return [(str(owner), int(count)) for owner, count in rows]


async def run(
    members: int, papers: int, processes: int, wait: float, postgres: str | None = None
) -> dict[str, Any]:
    """``postgres``: a PostgreSQL server URL to share (a fresh database on it), else one SQLite file."""
    cache.CACHE.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="alert-fanout-", dir=cache.CACHE))
    db = workdir / "fanout.db"
    url = await named_database(postgres, "alert_fanout", fresh=True) if postgres else None
    settings = Settings(db=db, database_url=url)
    emu = await CountingEmulator().start()
    await _prepare(settings, emu, members)
    env = bot_env(emu, db) | {"PAPERBOT_SHARD_COUNT": str(SHARDS), "PAPERBOT_FOLLOWS__POLL_SECONDS": "0.5"}
    if url is not None:
        env["PAPERBOT_DATABASE_URL"] = url
    logs, bots = [], []
    for index, shards in enumerate(split(processes)):
        own = env | {"PAPERBOT_HEALTH__FILE": str(workdir / f"heartbeat-{index}.json")}
        log_file = (workdir / f"bot-{index}.log").open("wb")
        logs.append(log_file)
        bots.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                "--shards",
                shards,
                env=own,
                stdout=log_file,
                stderr=log_file,
            )
        )
    expected = members * papers
    result: dict[str, Any] = {
        "members": members,
        "papers": papers,
        "processes": processes,
        "store": "PostgreSQL" if url else "one SQLite file",
    }
    try:
        await emu.wait_for(lambda: emu.connected_shards() == set(range(SHARDS)), wait=120)
        ingest_started = time.perf_counter()
        await _ingest(settings, papers)
        queued = time.perf_counter()
        try:
            await emu.wait_for(lambda: len(emu.pairs) >= expected, wait=wait)
        except TimeoutError:
            result["timed_out"] = True
        await asyncio.sleep(2)  # anything sent twice would show up now
        result["owners"] = await _owners(settings)
    finally:
        for bot in bots:
            if bot.returncode is None:
                bot.terminate()
                await bot.wait()
        await emu.stop()
        for log_file in logs:
            log_file.close()
    shutil.rmtree(workdir)
    took = emu.last_pair_at - queued
    result |= {
        "ingest_s": queued - ingest_started,
        "delivered": len(emu.pairs),
        "expected": expected,
        "duplicates": sum(count - 1 for count in emu.pairs.values()),
        "messages": emu.dm_messages,
        "took_s": took,
        "pairs_per_s": len(emu.pairs) / took if took > 0 else float("nan"),
    }
    return result


def report(result: dict[str, Any]) -> None:
    members, processes = result["members"], result["processes"]
    print(
        f"\nalert fan-out, {result['expected']:,} (member, paper) pairs ({members:,} members x "
        f"{result['papers']:,} papers) over {processes} processes of 6 shards on {result['store']} "
        "(under shared load)" + ("  [TIMED OUT]" if result.get("timed_out") else "")
    )
    print(
        f"  delivered {result['delivered']:,} pairs in {result['messages']:,} DMs, {result['took_s']:.1f} s "
        f"after the ingest queued them ({result['ingest_s']:.1f} s): {result['pairs_per_s']:,.0f} pairs/s"
    )
    print(f"  duplicates: {result['duplicates']}")
    shares = ", ".join(f"{owner.split(':')[1]}: {count:,}" for owner, count in result["owners"])
    print(f"  DM batches per process (pid: batches): {shares}")
    floor = max(result["messages"] / GLOBAL_PER_SECOND, members / DM_OPENS_PER_SECOND)
    print(
        f"  Discord's own limits would allow this no sooner than {floor:,.0f} s "
        f"({GLOBAL_PER_SECOND} requests/s, 10 new DM channels per 10 s)"
    )
