"""The momentum refresh is a policy of the one source schedule: re-fetching the last 7 days' lists
keeps within Hugging Face's rate limit, spaces its requests, backs off on 429, and runs in the one
process holding the schedule's lease (a loopback server; time is virtual: sleeping advances both
clocks, nothing waits for real)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import aiohttp
import pytest
from aiohttp import web

from bot.domain.rate_budget import RateBudget
from bot.services.fetching import REFRESH, FetchService, source_policies
from bot.services.papers import PaperService
from bot.settings import SourceSettings
from bot.sources.feeds import HuggingFaceSource
from bot.sources.http import HttpClient, RetryPolicy, Sleep
from bot.storage.database import Database
from bot.storage.fetches import FetchLogRepository
from bot.storage.leases import LeaseRepository
from tests.loopback import loopback_server
from tests.momentum_lists import Recorded, answer

START = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
TODAY = START.date()
WEEK = [TODAY - timedelta(days=back) for back in range(6, -1, -1)]
PAPERS = [Recorded(f"2607.{i:05d}", f"Paper {i}", day, lambda k: 7) for i, day in enumerate(WEEK, 1)]
SPACING = 1.0


class VirtualTime:
    """One virtual time for the HTTP budget (monotonic seconds) and the services' clock."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self.on_sleep: list[object] = []

    def monotonic(self) -> float:
        return self.now

    def clock(self) -> datetime:
        return START + timedelta(seconds=self.now)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class HuggingFace:
    """Answers each day's list; requests numbered in ``throttled`` get a 429 with Retry-After."""

    def __init__(
        self, time: VirtualTime, *, throttled: set[int] | None = None, retry_after: int = 40
    ) -> None:
        self.time = time
        self.requests: list[tuple[float, str, int]] = []  # (virtual time, date, status)
        self.throttled = throttled or set()
        self.retry_after = retry_after

    async def handle(self, request: web.Request) -> web.Response:
        day = request.query["date"]
        if len(self.requests) + 1 in self.throttled:
            self.requests.append((self.time.now, day, 429))
            return web.Response(status=429, headers={"Retry-After": str(self.retry_after)})
        self.requests.append((self.time.now, day, 200))
        body = answer(PAPERS, date.fromisoformat(day), lambda p: 0)
        return web.Response(body=body, content_type="application/json")

    def asked(self, status: int = 200) -> list[str]:
        return [day for _, day, answered in self.requests if answered == status]


@dataclass
class Process:
    """What one bot process builds for the source schedule: its own budget, fetcher and lease id."""

    fetcher: FetchService
    budget: RateBudget


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def process(
    database: Database,
    base: str,
    time: VirtualTime,
    session: aiohttp.ClientSession,
    *,
    budget: RateBudget | None = None,
    attempts: int = 3,
    pause: Sleep | None = None,
) -> Process:
    budget = budget or RateBudget()
    http = HttpClient(
        session,
        retry=RetryPolicy(attempts=attempts, base_delay=1.0),
        budget=budget,
        sleep=time.sleep,
        monotonic=time.monotonic,
    )
    papers = PaperService(database, clock=time.clock)
    await papers.start()
    fetcher = FetchService(
        papers,
        database,
        FetchLogRepository(database.connection),
        HuggingFaceSource(http, base_url=base + "/api/daily_papers"),
        policies=source_policies(SourceSettings(refresh_days=7, refresh_hours=6)),
        leases=LeaseRepository(database.connection),
        refresh_days=7,
        refresh_spacing=SPACING,
        sleep=pause or time.sleep,
    )
    return Process(fetcher, budget)


def most_in_any_window(times: list[float], window: float) -> int:
    return max((sum(1 for t in times if start <= t < start + window) for start in times), default=0)


async def test_the_scheduled_refresh_keeps_within_the_budget_spaces_requests_and_backs_off_on_429(
    database: Database, session: aiohttp.ClientSession
) -> None:
    time = VirtualTime()
    server = HuggingFace(time, throttled={3}, retry_after=40)
    budget = RateBudget(calls=3, per=300.0)  # HF's 500 per 5 minutes, scaled down so 7 days must wait
    async with loopback_server(server.handle) as base:
        one = await process(database, base, time, session, budget=budget)
        counts = await one.fetcher.run_scheduled()

    assert counts is not None and counts.new == 7
    # Every day once, oldest first; the two-day fetch found its days just refreshed: not asked again.
    assert server.asked() == [d.isoformat() for d in WEEK]
    times = [t for t, _, _ in server.requests]
    assert most_in_any_window(times, 300.0) <= 3  # the retry counted against the budget too
    assert all(later - earlier >= SPACING for earlier, later in pairwise(times))
    throttled = next(i for i, (_, _, status) in enumerate(server.requests) if status == 429)
    assert times[throttled + 1] - times[throttled] >= 40  # Retry-After honoured
    assert times[-1] >= 600  # 8 requests at 3 per 5 minutes: the budget made it wait, twice
    schedule = await one.fetcher.schedule()
    assert schedule[REFRESH] == time.clock() + timedelta(hours=6)
    refreshed = await one.fetcher.fetch_log.last(REFRESH)
    assert refreshed is not None and refreshed.ok and refreshed.papers == 7


async def test_the_default_budget_lets_a_week_through_but_not_a_flood(
    database: Database, session: aiohttp.ClientSession
) -> None:
    time = VirtualTime()
    server = HuggingFace(time)
    budget = RateBudget()  # 500 calls per 300 s
    async with loopback_server(server.handle) as base:
        one = await process(database, base, time, session, budget=budget)
        await one.fetcher.run_scheduled()
        assert time.slept == [SPACING] * 6  # 7 calls: only the polite spacing, no budget wait
        for _ in range(500 - 7):  # other Hugging Face calls of this process, same budget
            budget.spend(time.now)
        time.now += 6 * 3600  # the next refresh is due
        await one.fetcher.run_scheduled()
    # The 501st call in the window waited until the first left it.
    assert len(server.asked()) == 14
    assert server.requests[7][0] >= 300.0


async def test_a_refresh_hf_keeps_refusing_stops_at_once_and_is_retried_with_backoff(
    database: Database, session: aiohttp.ClientSession
) -> None:
    time = VirtualTime()
    server = HuggingFace(time, throttled=set(range(3, 100)), retry_after=30)
    async with loopback_server(server.handle) as base:
        one = await process(database, base, time, session, attempts=2)
        await one.fetcher.run_scheduled()
        # Two days refreshed, the third refused twice: the remaining four are not asked at all.
        assert server.asked() == [d.isoformat() for d in WEEK[:2]]
        assert server.asked(429) == [WEEK[2].isoformat()] * 2
        failed = await one.fetcher.fetch_log.last(REFRESH)
        assert failed is not None and not failed.ok
        assert "5 of 7 lists not refreshed" in (failed.error or "") and "HTTP 429" in (failed.error or "")
        retry_at = (await one.fetcher.schedule())[REFRESH]
        assert retry_at == failed.fetched_at + timedelta(minutes=5)  # the schedule's growing pause

        asked = len(server.requests)
        time.now += 4 * 60
        await one.fetcher.run_scheduled()
        assert len(server.requests) == asked  # not hammering a source that refuses

        server.throttled = set()
        time.now += 60
        await one.fetcher.run_scheduled()
    assert server.asked()[2:] == [d.isoformat() for d in WEEK]  # the whole week, once
    refreshed = await one.fetcher.fetch_log.last(REFRESH)
    assert refreshed is not None and refreshed.ok


async def test_a_second_process_does_not_refresh_while_the_first_holds_the_lease(
    shared: tuple[Database, Database], session: aiohttp.ClientSession
) -> None:
    time = VirtualTime()
    server = HuggingFace(time)
    async with loopback_server(server.handle) as base:
        one = await process(shared[0], base, time, session)
        two = await process(shared[1], base, time, session)
        assert await one.fetcher.run_scheduled() is not None
        assert await two.fetcher.run_scheduled() is None  # standing by
        assert len(server.asked()) == 7 and two.budget.wait(time.now) == 0
        time.now += 6 * 3600 - 30  # one renews the lease at its checks: the two-day fetch
        assert await one.fetcher.run_scheduled() is not None
        assert len(server.asked()) == 9
        time.now += 30  # the refresh is due: two still stands by, one does it at its check
        assert await two.fetcher.run_scheduled() is None
        assert len(server.asked()) == 9
        assert await one.fetcher.run_scheduled() is not None
        assert server.asked()[9:] == [d.isoformat() for d in WEEK]


async def test_a_refresh_that_loses_the_lease_half_way_stops_and_the_new_holder_does_the_week(
    shared: tuple[Database, Database], session: aiohttp.ClientSession
) -> None:
    time = VirtualTime()
    server = HuggingFace(time)
    taken_over: list[int] = []
    async with loopback_server(server.handle) as base:
        two = await process(shared[1], base, time, session)

        async def frozen_after_three_days(seconds: float) -> None:
            # Process one freezes in its third pause, past its lease; two's check takes over.
            await time.sleep(seconds)
            if len(server.asked()) == 3 and not taken_over:
                time.now += 6 * 60
                taken_over.append(len(server.requests))
                assert await two.fetcher.run_scheduled() is not None

        one = await process(shared[0], base, time, session, pause=frozen_after_three_days)
        await one.fetcher.run_scheduled()
    # One asked three days, two the whole week; one asked nothing after two took over.
    assert taken_over == [3]
    assert server.asked() == [d.isoformat() for d in WEEK[:3]] + [d.isoformat() for d in WEEK]
