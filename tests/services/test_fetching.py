"""Scheduled fetching of the configured sources (loopback servers only)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.services.container import Services
from bot.settings import Settings
from bot.storage.database import Database
from tests.loopback import loopback_server

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
async def server() -> AsyncIterator[str]:
    hf = (FIXTURES / "hf_daily_2024-07-31.json").read_bytes()

    async def handle(request: web.Request) -> web.Response:
        if request.path.startswith("/api"):
            return web.Response(body=hf, content_type="application/json")
        return web.Response(status=503, text="arXiv is down")

    async with loopback_server(handle) as url:
        yield url


async def test_enabled_sources_are_fetched_and_one_failing_spares_the_other(
    database: Database, server: str
) -> None:
    settings = Settings(
        sources={
            "enabled": ["hf", "arxiv"],
            "hf_api_url": server + "/api/daily_papers",
            "arxiv_rss_url": server + "/rss/",
            "timeout_seconds": 5,
            "retry_attempts": 1,
        }
    )
    async with aiohttp.ClientSession() as session:
        services = await Services.open(database, settings, session=session)
        assert services.fetcher is not None
        counts = await services.fetcher.fetch_enabled(date(2024, 7, 31))
    assert counts.new == 3
    hf = await services.repositories.fetches.last("hf")
    arxiv = await services.repositories.fetches.last("arxiv")
    assert hf is not None and hf.ok and hf.papers == 3
    assert arxiv is not None and not arxiv.ok and "HTTP 503" in (arxiv.error or "")


def test_the_default_is_the_hugging_face_list() -> None:
    assert Settings().sources.enabled == ["hf"]
