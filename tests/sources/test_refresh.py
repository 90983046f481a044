"""Re-fetching the last 7 days' lists keeps within Hugging Face's rate limit and backs off on 429
(a loopback server; time is virtual: sleeping advances it, nothing waits for real)."""

from __future__ import annotations

from datetime import date, timedelta

import aiohttp
from aiohttp import web

from bot.domain.rate_budget import RateBudget
from bot.services.fetching import FetchService
from bot.services.papers import PaperService
from bot.sources.feeds import HuggingFaceSource
from bot.sources.http import HttpClient, RetryPolicy
from bot.storage.fetches import FetchLogRepository
from tests.loopback import loopback_server
from tests.momentum_lists import Recorded, answer

TODAY = date(2026, 8, 1)
WEEK = [TODAY - timedelta(days=back) for back in range(6, -1, -1)]
PAPERS = [Recorded(f"2607.{i:05d}", f"Paper {i}", day, lambda k: 7) for i, day in enumerate(WEEK, 1)]


class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class HuggingFace:
    """Answers each day's list; the third request gets one 429 with Retry-After."""

    def __init__(self, time: VirtualTime, *, throttle_at: int | None = 3, retry_after: int = 40) -> None:
        self.time = time
        self.requests: list[tuple[float, str, int]] = []  # (virtual time, date, status)
        self.throttle_at = throttle_at
        self.retry_after = retry_after

    async def handle(self, request: web.Request) -> web.Response:
        day = request.query["date"]
        if len(self.requests) + 1 == self.throttle_at:
            self.requests.append((self.time.now, day, 429))
            return web.Response(status=429, headers={"Retry-After": str(self.retry_after)})
        self.requests.append((self.time.now, day, 200))
        body = answer(PAPERS, date.fromisoformat(day), lambda p: 0)
        return web.Response(body=body, content_type="application/json")


def most_in_any_window(times: list[float], window: float) -> int:
    return max((sum(1 for t in times if start <= t < start + window) for start in times), default=0)


async def refresh(
    service: PaperService, server: HuggingFace, base: str, budget: RateBudget, session: aiohttp.ClientSession
) -> FetchService:
    http = HttpClient(
        session,
        retry=RetryPolicy(attempts=3, base_delay=1.0),
        budget=budget,
        sleep=server.time.sleep,
        monotonic=server.time.monotonic,
    )
    fetcher = FetchService(
        service,
        service.database,
        FetchLogRepository(service.database.connection),
        HuggingFaceSource(http, base_url=base),
    )
    await fetcher.refresh_recent(7, TODAY)
    return fetcher


async def test_refreshing_the_week_keeps_within_the_budget_and_backs_off_on_429(
    service: PaperService,
) -> None:
    time = VirtualTime()
    server = HuggingFace(time, throttle_at=3, retry_after=40)
    budget = RateBudget(calls=3, per=300.0)  # HF's 500 per 5 minutes, scaled down so 7 days must wait
    async with loopback_server(server.handle) as base, aiohttp.ClientSession() as session:
        await refresh(service, server, base + "/api/daily_papers", budget, session)

    asked = [day for _, day, status in server.requests if status == 200]
    assert asked == [d.isoformat() for d in WEEK]  # every day once, oldest first
    times = [t for t, _, _ in server.requests]
    assert most_in_any_window(times, 300.0) <= 3  # the retry counted against the budget too
    throttled = next(i for i, (_, _, status) in enumerate(server.requests) if status == 429)
    assert times[throttled + 1] - times[throttled] >= 40  # Retry-After honoured
    assert times[-1] >= 600  # 8 requests at 3 per 5 minutes: the budget made it wait, twice
    stored = await service.daily_list(WEEK[0])
    assert [p.title for p in stored.papers] == ["Paper 1"]


async def test_the_default_budget_lets_a_week_through_at_once_but_not_a_flood(service: PaperService) -> None:
    time = VirtualTime()
    server = HuggingFace(time, throttle_at=None)
    async with loopback_server(server.handle) as base, aiohttp.ClientSession() as session:
        budget = RateBudget()  # 500 calls per 300 s
        await refresh(service, server, base + "/api/daily_papers", budget, session)
        assert time.slept == []  # 7 calls: nothing to wait for
        for _ in range(500 - 7):
            budget.spend(time.now)
        await refresh(service, server, base + "/api/daily_papers", budget, session)
    # The 501st call in the window waited until the first left it.
    assert time.slept and server.requests[7][0] >= 300.0
