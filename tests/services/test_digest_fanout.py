"""Many servers due at once: each posted once, each distinct post rendered once, bounded sends,
and overlapping timer calls coalesced into one fan-out."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pytest

import bot.services.digest as digest_module
from bot.domain.digest import DigestMessage
from bot.domain.models import ListedPaper
from bot.domain.pacing import Pacer
from bot.domain.schedule import LedgerKey
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.database import Database
from tests.conftest import FIXED_NOW


class RecordingPoster:
    """Counts sends per channel and the most sends in flight at once; ``gate`` holds them."""

    def __init__(self) -> None:
        self.sent: dict[int, int] = {}
        self.in_flight = 0
        self.most_in_flight = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.started = asyncio.Event()

    async def until_in_flight(self, count: int) -> None:
        while self.in_flight < count:
            self.started.clear()
            await self.started.wait()

    async def find_parts(self, channel_id: int, marker: str, *, since: datetime) -> dict[int, int]:
        return {}

    async def send(self, channel_id: int, message: DigestMessage, *, nonce: str) -> int:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.started.set()
        await self.gate.wait()
        self.in_flight -= 1
        self.sent[channel_id] = self.sent.get(channel_id, 0) + 1
        return channel_id * 100 + self.sent[channel_id]

    async def open_thread(self, channel_id: int, message_id: int, name: str) -> None:
        return None


@pytest.fixture
async def services(database: Database, sample_papers: list[ListedPaper]) -> Services:
    services = await Services.open(database, Settings(), clock=lambda: FIXED_NOW)
    await services.papers.ingest(sample_papers)
    digests = services.digests
    digests._pacer = Pacer(1e9, burst=1000)  # pacing has its own tests; here it would only wait
    for guild in range(1, 41):
        max_papers = 10 if guild % 2 else 5  # two layouts
        await digests.configure(guild, 1000 + guild, post_time="12:00", timezone="UTC", max_papers=max_papers)
    return services


async def test_every_due_server_is_posted_once_and_each_layout_rendered_once(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[int] = []
    real = digest_module.plan_post

    def counting(*args: Any, **kwargs: Any) -> Any:
        rendered.append(len(args[2]))  # the papers chosen: max_papers of each layout
        return real(*args, **kwargs)

    monkeypatch.setattr(digest_module, "plan_post", counting)
    poster = RecordingPoster()
    outcomes = await services.digests.run_due(poster)
    assert len(outcomes) == 40 and {o.state for o in outcomes} == {"posted"}
    assert sorted(rendered) == [5, 10]  # 40 servers, two layouts, two renderings
    parts = {o.guild_id: len(o.message_ids) for o in outcomes}
    assert poster.sent == {1000 + guild: parts[guild] for guild in range(1, 41)}
    assert await services.digests.run_due(poster) == []  # nothing twice
    assert poster.sent == {1000 + guild: parts[guild] for guild in range(1, 41)}


async def test_sends_in_flight_are_bounded(services: Services) -> None:
    services.digests._concurrency = 4
    poster = RecordingPoster()
    poster.gate.clear()
    run = asyncio.ensure_future(services.digests.run_due(poster))
    await poster.until_in_flight(4)
    for _ in range(50):  # give the others every chance to start too
        await asyncio.sleep(0)
    assert poster.most_in_flight == 4
    poster.gate.set()
    assert len(await run) == 40


async def test_timer_calls_during_a_fan_out_join_it_instead_of_starting_another(services: Services) -> None:
    poster = RecordingPoster()
    poster.gate.clear()
    first = asyncio.ensure_future(services.digests.run_due(poster))
    await poster.until_in_flight(1)
    # Every server's timer fires in the same minute: these return at once, the running pass goes on.
    assert await asyncio.gather(*(services.digests.run_due(poster) for _ in range(10))) == [[]] * 10
    await services.digests.configure(
        99, 1099, post_time="12:00", timezone="UTC"
    )  # due at once (its minute), added meanwhile
    poster.gate.set()
    outcomes = await first
    assert {o.guild_id for o in outcomes} == {*range(1, 41), 99}  # one more pass picked it up
    assert all(count >= 1 for count in poster.sent.values()) and len(poster.sent) == 41


async def test_sharded_processes_each_post_only_their_own_servers_and_together_all_once(
    database: Database, sample_papers: list[ListedPaper]
) -> None:
    """Three processes over 6 shards on one database: a server's digest comes from the process
    running its shard, so every server is posted once and no process touches another's servers."""
    processes = [
        await Services.open(database, Settings(shard_count=6, shards=shards), clock=lambda: FIXED_NOW)
        for shards in ("0-1", "2-3", "4-5")
    ]
    await processes[0].papers.ingest(sample_papers)
    guilds = [(stamp << 22) | 1 for stamp in range(5000, 5030)]  # five servers on each shard
    for guild in guilds:
        await processes[0].digests.configure(guild, guild + 1, post_time="12:00", timezone="UTC")
    posters = [RecordingPoster() for _ in processes]
    for services in processes:
        services.digests._pacer = Pacer(1e9, burst=1000)
    posted = [await s.digests.run_due(p) for s, p in zip(processes, posters, strict=True)]
    for services, outcomes, poster in zip(processes, posted, posters, strict=True):
        plan = services.settings.shard_plan
        assert {o.guild_id for o in outcomes} == {g for g in guilds if plan.owns(g)}
        assert set(poster.sent) == {g + 1 for g in guilds if plan.owns(g)}
        assert len(await services.digests.owned_configs()) == 10
    assert sorted(o.guild_id for outcomes in posted for o in outcomes) == guilds


class CountingFreshener:
    def __init__(self) -> None:
        self.calls: list[tuple[datetime, tuple[date, ...]]] = []

    async def ensure_fresh(self, since: datetime, days: Sequence[date] | None = None) -> None:
        self.calls.append((since, tuple(days or ())))


async def test_servers_sharing_a_posting_minute_check_their_lists_freshness_once(services: Services) -> None:
    # The check reads the fetch log under the fetcher's lock: one per server, one after the other,
    # held a thousand servers' first post back by seconds.
    freshener = CountingFreshener()
    services.digests._freshener = freshener
    outcomes = await services.digests.run_due(RecordingPoster())
    assert len(outcomes) == 40 and {o.state for o in outcomes} == {"posted"}
    assert len(freshener.calls) == 1


async def test_a_one_part_post_costs_the_writer_two_transactions(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In a fan-out the single writer's round trips set the pace: the claim, then the part recorded
    # and the post confirmed together (no renewal of a lease taken a moment ago).
    database = services.database
    real = database.transaction
    transactions = 0

    def counting() -> Any:
        nonlocal transactions
        transactions += 1
        return real()

    monkeypatch.setattr(database, "transaction", counting)
    outcomes = await services.digests.run_due(RecordingPoster())
    one_part = [o for o in outcomes if len(o.message_ids) == 1]
    assert len(one_part) == len(outcomes) == 40
    assert transactions == 2 * 40
    rows = [
        await services.repositories.digests.post(LedgerKey(o.guild_id, o.channel_id), o.post_day)
        for o in outcomes
    ]
    assert {row.state for row in rows if row is not None} == {"posted"}
