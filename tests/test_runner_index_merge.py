"""A running bot merges its SQLite store's full-text indexes in the background (search.merge_*),
and a bot stopped in the middle of that merge stops cleanly: no error logged, whole indexes."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bench.corpus import generate
from bot import runner
from bot.client import PaperBot
from bot.services.container import Services, open_services
from bot.settings import Settings
from bot.storage.database import Database
from bot.storage.index_merge import INDEXES, segment_counts
from tests.index_merge_steps import StepWatch


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        db=tmp_path / "bot.db",
        discord_token="not-a-token",
        digest={"scheduler": False},
        search={"merge_above_segments": 1},
    )


async def _store_of_many_segments(settings: Settings) -> dict[str, int]:
    papers = list(generate(80, seed=2))
    async with open_services(settings, warm=False) as services:
        for start in range(0, len(papers), 20):  # one commit, one segment: as four fetches leave it
            await services.papers.ingest(papers[start : start + 20])
        assert isinstance(services.database, Database)
        return await segment_counts(services.database)


async def test_a_running_bot_merges_its_indexes_to_one_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings(tmp_path)
    assert max((await _store_of_many_segments(settings)).values()) > 1
    merged = asyncio.Event()
    real_merge = runner._merge_indexes

    async def merge_then_tell(services: Services, settings: Settings) -> None:
        await real_merge(services, settings)
        merged.set()

    async def serve_until_merged(self: PaperBot, token: str, *, reconnect: bool = True) -> None:
        await merged.wait()

    monkeypatch.setattr(runner, "_merge_indexes", merge_then_tell)
    monkeypatch.setattr(PaperBot, "start", serve_until_merged)
    caplog.set_level(logging.INFO, logger="bot.runner")
    async with open_services(settings, warm=False) as services:
        await runner._serve(services, settings)
        assert isinstance(services.database, Database)
        assert await segment_counts(services.database) == dict.fromkeys(INDEXES, 1)
    assert any("full-text index segments" in record.getMessage() for record in caplog.records)


async def test_a_bot_stopped_during_the_merge_stops_cleanly_with_whole_indexes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings(tmp_path)
    assert max((await _store_of_many_segments(settings)).values()) > 1
    steps = StepWatch(monkeypatch, pages=1)  # the smallest steps: the stop meets one in hand

    async def serve_until_a_step(self: PaperBot, token: str, *, reconnect: bool = True) -> None:
        await steps.started.wait()  # then the bot stops (its connection ended)

    monkeypatch.setattr(PaperBot, "start", serve_until_a_step)
    caplog.set_level(logging.INFO)
    async with open_services(settings, warm=False) as services:
        await runner._serve(services, settings)
    assert steps.started.is_set()  # the stop came while the merge was under way
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    with closing(sqlite3.connect(settings.store)) as connection:
        for index in INDEXES:  # FTS5's own check: each index agrees with its rows (raises if not)
            connection.execute(f"INSERT INTO {index} ({index}) VALUES ('integrity-check')")
