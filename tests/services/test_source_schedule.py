"""The bot-wide source schedule on a virtual clock: fetched at start only when the last fetch is
old, then every interval, with backoff after failures, and by one process at a time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.domain.momentum import Period
from bot.domain.sources import recent_days
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.connection import Store
from bot.storage.database import Database
from bot.storage.postgres import PostgresDatabase
from tests.hf_api import FakeHfApi, fake_hf_api, hf_item
from tests.postgres_server import PostgresServer

START = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
async def api() -> AsyncIterator[FakeHfApi]:
    async with fake_hf_api() as api:
        yield api


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def bot_process(
    database: Database, api: FakeHfApi, session: aiohttp.ClientSession, clock: Clock, **sources: object
) -> Services:
    """The services one ``paperbot run`` builds (each call: a new process instance). The momentum
    refresh, another policy of this schedule, is off unless asked: tests/sources/test_refresh.py."""
    settings = Settings(
        sources={
            "hf_api_url": api.url,
            "retry_attempts": 1,
            "refresh_minutes": 120,
            "refresh_days": 0,
            **sources,
        }
    )
    return await Services.open(database, settings, session=session, clock=clock)


async def test_a_restart_fetches_at_start_only_when_the_last_fetch_is_old(
    database: Database, api: FakeHfApi, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    today = START.date()
    api.add(today, hf_item("2601.00001", "A first paper"))
    first = await bot_process(database, api, session, clock)
    assert first.fetcher is not None
    counts = await first.fetcher.run_scheduled()  # the first check at start: never fetched
    assert counts is not None and counts.new == 1
    assert api.requests == recent_days(START)  # the last two days, each once
    assert await first.fetcher.run_scheduled() is not None
    assert len(api.requests) == 2  # nothing due a moment later
    await first.fetcher.release_schedule()  # a clean stop

    clock.advance(minutes=30)
    fresh_restart = await bot_process(database, api, session, clock)
    assert fresh_restart.fetcher is not None
    await fresh_restart.fetcher.run_scheduled()
    assert len(api.requests) == 2  # fetched 30 minutes ago: no fetch at start
    assert (await fresh_restart.next_fetches())["hf"] == START + timedelta(hours=2)

    clock.advance(minutes=90)  # the interval has passed: the next check fetches
    api.add(today, hf_item("2601.00002", "Added later in the day"))
    counts = await fresh_restart.fetcher.run_scheduled()
    assert counts is not None and counts.new == 1 and len(api.requests) == 4
    await fresh_restart.fetcher.release_schedule()

    clock.advance(hours=5)  # down for five hours: the restart fetches at once
    old_restart = await bot_process(database, api, session, clock)
    assert old_restart.fetcher is not None
    assert (await old_restart.next_fetches())["hf"] == clock.now
    await old_restart.fetcher.run_scheduled()
    assert len(api.requests) == 6


async def test_a_failing_source_is_retried_with_backoff_and_logged(
    database: Database, api: FakeHfApi, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    services = await bot_process(database, api, session, clock)
    assert services.fetcher is not None
    api.failing = True
    await services.fetcher.run_scheduled()
    assert len(api.requests) == 2
    last = await services.repositories.fetches.last("hf")
    assert last is not None and not last.ok and "HTTP 503" in (last.error or "")
    clock.advance(minutes=4)
    await services.fetcher.run_scheduled()
    assert len(api.requests) == 2  # not hammering a source that is down
    clock.advance(minutes=1)
    await services.fetcher.run_scheduled()  # 5 minutes after the first failure
    assert len(api.requests) == 4
    clock.advance(minutes=9)
    await services.fetcher.run_scheduled()
    assert len(api.requests) == 4  # the second pause is 10 minutes
    api.failing = False
    clock.advance(minutes=1)
    await services.fetcher.run_scheduled()
    assert len(api.requests) == 6
    last = await services.repositories.fetches.last("hf")
    assert last is not None and last.ok


@pytest.fixture(params=["sqlite", "postgres"])
async def shared(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Store, Store]]:
    """Two processes' connections to one store: one SQLite file, or one PostgreSQL database."""
    server: PostgresServer | None = None
    if request.param == "sqlite":
        one_db: Store = await Database.open(tmp_path / "shared.db")
        two_db: Store = await Database.open(tmp_path / "shared.db")
    else:
        server = request.getfixturevalue("postgres_server")
        url = await server.fresh_database()
        one_db, two_db = await PostgresDatabase.open(url), await PostgresDatabase.open(url)
    try:
        yield one_db, two_db
    finally:
        await one_db.close()
        await two_db.close()
        if server is not None:
            await server.release(url)


async def test_two_processes_run_the_schedule_one_at_a_time(
    shared: tuple[Store, Store], api: FakeHfApi, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    one_db, two_db = shared
    one = await bot_process(one_db, api, session, clock, refresh_minutes=1)
    two = await bot_process(two_db, api, session, clock, refresh_minutes=1)
    assert one.fetcher is not None and two.fetcher is not None
    for _ in range(5):  # both check every 30 s for five minutes: only the lease holder fetches
        assert await one.fetcher.run_scheduled() is not None
        assert await two.fetcher.run_scheduled() is None
        clock.advance(seconds=30)
    assert len(api.requests) == 2 * 3  # at 0, 1 and 2 minutes
    # The holder dies without a clean stop (its last renewal was 30 s ago): the other takes
    # over once the 45 s lease has expired, never sooner.
    clock.advance(seconds=14)
    assert await two.fetcher.run_scheduled() is None
    clock.advance(seconds=2)
    assert await two.fetcher.run_scheduled() is not None
    assert await one.fetcher.run_scheduled() is None  # back from a freeze: it is the standby now


async def test_the_holder_keeps_the_schedule_through_a_long_fetch_and_a_dead_one_loses_it_within_a_minute(
    shared: tuple[Store, Store],
    api: FakeHfApi,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.services.fetching")
    clock = Clock()
    one_db, two_db = shared
    one = await bot_process(one_db, api, session, clock)
    two = await bot_process(two_db, api, session, clock)
    assert one.fetcher is not None and two.fetcher is not None
    assert one.fetcher.lease_ttl == timedelta(seconds=45)
    assert await one.fetcher.hold_schedule()
    holder = await two.fetcher.schedule_holder()
    assert holder == one.fetcher.owner
    # A fetch taking three minutes: the holder's lease timer renews every 15 s meanwhile, so the
    # standby (checking as often) never takes the schedule over in the middle of it.
    for _ in range(12):
        clock.advance(seconds=15)
        assert await one.fetcher.hold_schedule()
        assert not await two.fetcher.hold_schedule()
    # Then the holder dies: the standby's next renewals find the lease gone within a minute.
    waited = 0
    while not await two.fetcher.hold_schedule():
        clock.advance(seconds=15)
        waited += 15
    assert waited <= 60
    assert await one.fetcher.schedule_holder() == two.fetcher.owner
    said = [r.getMessage() for r in caplog.records if "taken over" in r.getMessage()]
    assert said == [f"source schedule taken over from {one.fetcher.owner} (it stopped renewing its lease)"]


async def test_the_momentum_refresh_runs_in_the_schedule_through_the_process_one_budget(
    database: Database, api: FakeHfApi, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    api.add(START.date() - timedelta(days=3), hf_item("2601.00003", "Listed three days ago", upvotes=2))
    services = await bot_process(database, api, session, clock, refresh_days=7, refresh_spacing_seconds=0)
    assert services.fetcher is not None
    assert await services.fetcher.run_scheduled() is not None
    week = recent_days(START, 7)
    assert api.requests == week  # the refresh covered the two-day fetch's lists: none asked twice
    assert (await services.next_fetches())["hf-refresh"] == START + timedelta(hours=6)

    # A due post's fetch and a CLI fetch in this process count against the same budget.
    clock.advance(minutes=1)
    await services.fetcher.ensure_fresh(clock.now)
    await services.fetcher.fetch_day(START.date())
    assert len(api.requests) == 10
    overview = await services.overview()
    assert overview.hf_calls == (10, 500, 300.0)
    assert (await services.momentum.top(Period.WEEK)).entries[0].paper.title == "Listed three days ago"
