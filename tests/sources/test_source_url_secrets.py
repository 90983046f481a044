"""A source address may carry a secret (a mirror's ``user:password@`` or ``?token=``): whatever fails,
at every step of a fetch, the secret never reaches a log line, the error the fetch log keeps (shown
in /digest show, /papers stats and /about) or a skipped entry's note."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.doctor import Check, run_checks
from bot.domain.urls import shown_url
from bot.parsing.skipped import SkippedEntry
from bot.settings import Settings
from bot.sources.feeds import ArxivSource, HuggingFaceSource
from bot.sources.http import FetchError, HttpClient, RetryPolicy
from tests.loopback import closed_port, loopback_server

SECRETS = ("hfsecret", "qsecret")
DAY = date(2024, 7, 31)


def with_secrets(base: str) -> str:
    """``http://127.0.0.1:PORT`` as a mirror with credentials in its address."""
    return base.replace("http://", "http://mirror:hfsecret@") + "/api/daily_papers?token=qsecret"


async def hang() -> web.StreamResponse:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


def answer(kind: str) -> Callable[[], Awaitable[web.StreamResponse]]:
    async def respond() -> web.StreamResponse:
        if kind == "503":
            return web.Response(status=503, text="busy")
        if kind == "404":
            return web.Response(status=404, text="gone")
        if kind == "declared-too-big":
            return web.Response(body=b"[" + b" " * 5000 + b"]", content_type="application/json")
        if kind == "not-a-list":
            return web.Response(body=b"<html>Sign in</html>", content_type="text/html")
        if kind == "malformed-item":
            item = {"paper": {"id": "not-an-id", "title": "T", "summary": "S"}, "publishedAt": "2024-07-31"}
            return web.Response(body=json.dumps([item]).encode(), content_type="application/json")
        return await hang()

    return respond


def serving(kind: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(_: web.Request) -> web.StreamResponse:
        return await answer(kind)()

    return handle


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def no_sleep(_: float) -> None:
    return None


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every line logged, but the loopback server's own access log (the mirror's, not the bot's)."""
    return [record.getMessage() for record in caplog.records if record.name != "aiohttp.access"]


def assert_hidden(texts: list[str]) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, text


# Every way a fetch can end badly: refused, retried and given up, refused for good, over the size
# cap, timed out, answered with something else, a malformed item skipped, an address aiohttp refuses.
FAILURES = [
    *("refused", "503", "404", "declared-too-big", "timeout", "not-a-list", "malformed-item", "bad-port")
]


@pytest.mark.parametrize("failure", FAILURES)
async def test_hf_fetch_failures_never_show_the_address_secrets(
    failure: str, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = HttpClient(session, timeout=0.05, sleep=no_sleep, retry=RetryPolicy(attempts=2), max_bytes=1000)
    skipped: list[SkippedEntry] = []
    texts: list[str] = []

    async def fetch(url: str) -> None:
        try:
            await HuggingFaceSource(client, base_url=url).daily_list(DAY, skipped=skipped)
        except (FetchError, aiohttp.ClientError) as exc:
            texts.append(str(exc))

    if failure == "refused":
        await fetch(with_secrets(f"http://127.0.0.1:{closed_port()}"))
    elif failure == "bad-port":
        await fetch("http://mirror:hfsecret@127.0.0.1:notaport/api?token=qsecret")
    else:
        async with loopback_server(serving("hang" if failure == "timeout" else failure)) as base:
            await fetch(with_secrets(base))
    if failure == "malformed-item":
        assert skipped, "the malformed item was not skipped"
    else:
        assert texts, f"{failure}: the fetch did not fail"
    assert_hidden(texts + [str(entry) for entry in skipped] + logged(caplog))


@pytest.mark.parametrize("failure", ["refused", "503"])
async def test_arxiv_fetch_failures_never_show_the_address_secrets(
    failure: str, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = HttpClient(session, timeout=0.05, sleep=no_sleep, retry=RetryPolicy(attempts=2))

    async def fetch(base: str) -> str:
        source = ArxivSource(
            client,
            rss_url=base.replace("http://", "http://mirror:hfsecret@") + "/rss/",
            api_url=with_secrets(base),
            sleep=no_sleep,
        )
        messages = []
        for call in (source.announcements(["cs.LG"]), source.query("cat:cs.LG")):
            with pytest.raises(FetchError) as raised:
                await call
            messages.append(str(raised.value))
        return "\n".join(messages)

    if failure == "refused":
        text = await fetch(f"http://127.0.0.1:{closed_port()}")
    else:
        async with loopback_server(serving(failure)) as base:
            text = await fetch(base)
    assert_hidden([text, *logged(caplog)])


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:p@mirror.example/api/daily_papers?token=t", "https://mirror.example/api/daily_papers"),
        ("https://mirror.example:8443/rss/", "https://mirror.example:8443/rss/"),
        ("http://u:p@[::1]:80/x?y=z#f", "http://[::1]:80/x"),
        ("https://user@host", "https://host/"),
        ("not a url", "not a url"),
    ],
)
def test_shown_url_keeps_scheme_host_port_and_path(url: str, shown: str) -> None:
    assert shown_url(url) == shown


@pytest.mark.parametrize("failure", ["refused", "503"])
async def test_doctor_names_the_source_without_its_secrets(failure: str, tmp_path: Path) -> None:
    async def check(base: str) -> Check:
        settings = Settings(db=tmp_path / "bot.db", sources={"hf_api_url": with_secrets(base)})
        return next(c for c in await run_checks(settings, wait=2.0) if c.name == "source hf")

    if failure == "refused":
        found = await check(f"http://127.0.0.1:{closed_port()}")
    else:
        async with loopback_server(serving(failure)) as base:
            found = await check(base)
    assert found.status == "fail" and "127.0.0.1" in found.detail
    assert_hidden([found.detail])
