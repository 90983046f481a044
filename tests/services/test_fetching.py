"""Scheduled fetching of the configured sources (loopback servers only)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import date, time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.domain.schedule import DigestConfig
from bot.services.container import Services
from bot.services.digest import DigestStatus
from bot.settings import Settings
from bot.storage.database import Database
from cogs._render import digest_status
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
        counts = await services.fetcher.fetch_enabled()
    assert counts.new == 3
    hf = await services.repositories.fetches.last("hf")
    arxiv = await services.repositories.fetches.last("arxiv")
    assert hf is not None and hf.ok and hf.papers == 3
    assert arxiv is not None and not arxiv.ok and "HTTP 503" in (arxiv.error or "")


def test_the_default_is_the_hugging_face_list() -> None:
    assert Settings().sources.enabled == ["hf"]


def hf_settings(url: str) -> Settings:
    return Settings(
        sources={
            "enabled": ["hf"],
            "hf_api_url": url + "/api/daily_papers",
            "timeout_seconds": 5,
            "retry_attempts": 1,
        }
    )


async def test_a_fetched_list_with_lone_surrogates_is_stored_repaired(database: Database) -> None:
    answer = json.dumps(
        [{"paper": {"id": "2407.00001", "title": "Bad \ud800 title", "summary": "x \udfff y"}}]
    ).encode()

    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=answer, content_type="application/json")

    async with loopback_server(handle) as url, aiohttp.ClientSession() as session:
        services = await Services.open(database, hf_settings(url), session=session)
        assert services.fetcher is not None
        counts = await services.fetcher.fetch_enabled(date(2024, 7, 31))
    assert counts.new == 1
    assert (await services.papers.show("2407.00001")).title == "Bad \ufffd title"
    fetch = await services.repositories.fetches.last("hf")
    assert fetch is not None and fetch.ok


async def test_a_fetched_list_that_fails_to_store_is_a_failed_fetch_shown_by_digest_show(
    database: Database, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*args: object, **kwargs: object) -> None:
        raise sqlite3.IntegrityError("simulated failure while storing")

    async with aiohttp.ClientSession() as session:
        services = await Services.open(database, hf_settings(server), session=session)
        assert services.fetcher is not None
        monkeypatch.setattr(services.papers.repository, "write", refuse)
        counts = await services.fetcher.fetch_enabled(date(2024, 7, 31))  # logs, does not raise
    assert counts.new == 0 and await services.papers.repository.count() == 0
    fetch = await services.repositories.fetches.last("hf")
    assert fetch is not None and not fetch.ok and "could not be stored" in (fetch.error or "")
    config = DigestConfig(guild_id=1, channel_id=2, post_time=time(9), timezone="UTC")
    embed = digest_status(DigestStatus(config, last_post=None, next_post=None, last_fetch=fetch))
    shown = {field.name: field.value for field in embed.fields}
    assert "failed: the fetched list could not be stored" in (shown["Last fetch"] or "")
