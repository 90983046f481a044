"""Sources against a loopback server (127.0.0.1) replaying recorded answers and failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import date
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.sources.feeds import ArxivSource, HuggingFaceSource
from bot.sources.http import USER_AGENT, FetchError, HttpClient, RetryPolicy
from tests.loopback import loopback_server

FIXTURES = Path(__file__).parent.parent / "fixtures"
Handler = Callable[[web.Request], web.StreamResponse]


class Script:
    """Answers in order; the last one repeats. Records every request."""

    def __init__(self, *answers: Callable[[], web.StreamResponse] | str) -> None:
        self.answers = list(answers)
        self.requests: list[web.Request] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if answer == "hang":
            await asyncio.Event().wait()
        assert callable(answer)
        return answer()


def ok_json(name: str = "hf_daily_2024-07-31.json") -> Callable[[], web.Response]:
    return lambda: web.Response(body=(FIXTURES / name).read_bytes(), content_type="application/json")


def status(code: int, **headers: str) -> Callable[[], web.Response]:
    return lambda: web.Response(status=code, text="busy", headers=headers)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Script], Awaitable[str]]]:
    async with AsyncExitStack() as stack:

        async def start(script: Script) -> str:
            return await stack.enter_async_context(loopback_server(script.handle))

        yield start


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def test_hf_daily_list_with_params_and_user_agent(serve, session) -> None:  # type: ignore[no-untyped-def]
    script = Script(ok_json())
    base = await serve(script)
    source = HuggingFaceSource(HttpClient(session), base_url=base + "/api/daily_papers")
    papers = await source.daily_list(date(2024, 7, 31))
    assert [p.paper.arxiv_id for p in papers] == ["2407.21018", "2407.20999", "2407.20001"]
    request = script.requests[0]
    assert request.query["date"] == "2024-07-31"
    assert request.headers["User-Agent"] == USER_AGENT


async def test_429_then_200_waits_as_told(serve, session) -> None:  # type: ignore[no-untyped-def]
    script = Script(status(429, **{"Retry-After": "7"}), ok_json())
    sleeps = Sleeps()
    source = HuggingFaceSource(HttpClient(session, sleep=sleeps), base_url=await serve(script))
    assert len(await source.daily_list(date(2024, 7, 31))) == 3
    assert sleeps.delays == [7.0]


async def test_500s_are_retried_then_reported(serve, session) -> None:  # type: ignore[no-untyped-def]
    script = Script(status(500))
    sleeps = Sleeps()
    client = HttpClient(session, sleep=sleeps, retry=RetryPolicy(attempts=3, base_delay=1.0))
    with pytest.raises(FetchError, match=r"failed after 3 attempts \(HTTP 500"):
        await HuggingFaceSource(client, base_url=await serve(script)).daily_list(date(2024, 7, 31))
    assert len(script.requests) == 3
    assert len(sleeps.delays) == 2 and sleeps.delays[1] > sleeps.delays[0] * 0.5


async def test_404_is_not_retried(serve, session) -> None:  # type: ignore[no-untyped-def]
    script = Script(status(404))
    with pytest.raises(FetchError, match="HTTP 404"):
        await HuggingFaceSource(HttpClient(session, sleep=Sleeps()), base_url=await serve(script)).daily_list(
            date(2024, 7, 31)
        )
    assert len(script.requests) == 1


async def test_timeouts_are_retried_then_reported(serve, session) -> None:  # type: ignore[no-untyped-def]
    script = Script("hang")
    client = HttpClient(session, timeout=0.05, sleep=Sleeps(), retry=RetryPolicy(attempts=2))
    with pytest.raises(FetchError, match="TimeoutError"):
        await HuggingFaceSource(client, base_url=await serve(script)).daily_list(date(2024, 7, 31))
    assert len(script.requests) == 2


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'[{"paper": {"id": "2407.21018", "title": "Trunc', "application/json"),
        (b"<html><body>Sign in to continue</body></html>", "text/html"),
    ],
)
async def test_truncated_json_or_html_is_a_clear_error(
    serve, session, body: bytes, content_type: str
) -> None:  # type: ignore[no-untyped-def]
    script = Script(lambda: web.Response(body=body, content_type=content_type))
    with pytest.raises(FetchError, match="not a papers list"):
        await HuggingFaceSource(HttpClient(session), base_url=await serve(script)).daily_list(
            date(2024, 7, 31)
        )


async def test_enormous_answers_are_cut_off(serve, session) -> None:  # type: ignore[no-untyped-def]
    script = Script(lambda: web.Response(body=b"[" + b" " * 5000 + b"]", content_type="application/json"))
    with pytest.raises(FetchError, match="byte cap"):
        await HuggingFaceSource(HttpClient(session, max_bytes=1000), base_url=await serve(script)).daily_list(
            date(2024, 7, 31)
        )


async def test_arxiv_rss_and_atom_keep_three_seconds_apart(serve, session) -> None:  # type: ignore[no-untyped-def]
    rss = (FIXTURES / "arxiv_rss_cs.LG.xml").read_bytes()
    atom = (FIXTURES / "arxiv_atom_query.xml").read_bytes()
    script = Script(
        lambda: web.Response(body=rss, content_type="application/rss+xml"),
        lambda: web.Response(body=atom, content_type="application/atom+xml"),
    )
    base = await serve(script)
    sleeps = Sleeps()
    clock = iter([100.0, 100.5, 101.0])
    source = ArxivSource(
        HttpClient(session),
        rss_url=base + "/rss/",
        api_url=base + "/api/query",
        sleep=sleeps,
        monotonic=lambda: next(clock),
    )
    papers = await source.announcements(["cs.LG", "cs.CL"])
    assert script.requests[0].path == "/rss/cs.LG+cs.CL"
    assert len(papers) == 3
    entries = await source.query("cat:cs.LG")
    assert [p.paper.arxiv_id for p in entries] == ["2405.18443", "hep-th/9901001"]
    assert sleeps.delays == [2.5]  # 3 s after the previous request, 0.5 s of which had passed
