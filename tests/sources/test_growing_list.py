"""A day's Hugging Face list grows and re-ranks all day: fetching the same date again brings the
late additions and current upvotes, never duplicates (a loopback server replaying the answers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import aiohttp
import pytest

from bot.services.container import Services
from bot.settings import Settings
from bot.storage.database import Database
from tests.hf_api import FakeHfApi, fake_hf_api, morning_of, recorded_day

DAY = date(2026, 2, 3)


@pytest.fixture
async def api() -> AsyncIterator[FakeHfApi]:
    async with fake_hf_api() as api:
        yield api


async def test_refetching_a_growing_list_brings_late_papers_and_current_upvotes(
    database: Database, api: FakeHfApi
) -> None:
    finished = recorded_day()
    api.replays[DAY] = [morning_of(finished), finished]  # 07:45 answer, then the evening one
    settings = Settings(sources={"hf_api_url": api.url, "retry_attempts": 1})
    async with aiohttp.ClientSession() as session:
        services = await Services.open(
            database, settings, session=session, clock=lambda: datetime(2026, 2, 3, 20, tzinfo=UTC)
        )
        assert services.fetcher is not None
        morning = await services.fetcher.fetch_day(DAY)
        assert morning.new == 12
        evening = await services.fetcher.fetch_day(DAY)
    assert (evening.new, evening.updated) == (28, 12)  # the 12 known ones got their new upvotes
    daily = await services.papers.daily_list(DAY)
    listed = daily.papers
    assert len(listed) == 40 and len({p.id for p in listed}) == 40
    assert [p.upvotes for p in listed][:3] == [77, 56, 53]  # the evening's order and counts
    fetches = await services.repositories.fetches.last("hf")
    assert fetches is not None and fetches.ok and fetches.papers == 40
    assert api.asked(DAY) == 2
