"""A digest retried on every tick while the disk is full: members get their post once space is
freed, and the log says what is wrong once, not with a traceback per tick."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import pytest

from bot.domain.models import ListedPaper
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.database import Database
from tests.conftest import FIXED_NOW
from tests.services.test_digest_fanout import RecordingPoster

TICKS = 50


class FullDisk:
    """While ``full``, every commit that wrote something fails as SQLite's does when the disk has no
    room for the write-ahead log's new frames (what a full tmpfs gave the trial's bot). A limit on
    the page count (storage/test_faults) would not do: a small write fits in pages that have room."""

    def __init__(self, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = True
        writer = database.writer
        execute = writer.execute
        at_begin = [0]

        def failing(sql: str, *args: Any) -> Any:
            if sql == "BEGIN IMMEDIATE":
                at_begin[0] = writer.total_changes
            if sql == "COMMIT" and self.full and writer.total_changes != at_begin[0]:
                raise sqlite3.OperationalError("database or disk is full")
            return execute(sql, *args)

        monkeypatch.setattr(writer, "execute", failing)


# SQLite's: PostgreSQL's server reports its own disk full (storage/test_pg_disk_full).
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_digest_failing_on_a_full_disk_logs_one_line_then_one_when_it_posts(
    database: Database,
    sample_papers: list[ListedPaper],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = await Services.open(database, Settings(), clock=lambda: FIXED_NOW)
    await services.papers.ingest(sample_papers)
    await services.digests.configure(1, 1001, post_time="12:00", timezone="UTC", max_papers=5)
    disk = FullDisk(database, monkeypatch)
    poster = RecordingPoster()

    with caplog.at_level(logging.INFO, logger="bot.services.digest"):
        for _ in range(TICKS):
            assert await services.digests.run_due(poster) == []
    assert poster.sent == {}
    assert database.writes.unwritable is not None
    lines = [r for r in caplog.records if r.name == "bot.services.digest"]
    [started] = lines
    assert started.levelno == logging.WARNING and started.exc_info is None
    assert started.getMessage().startswith("digest for guild 1 channel 1001 on 2026-08-01 failed: ")
    assert "The disk holding the database is full" in started.getMessage()

    caplog.clear()
    disk.full = False  # space freed
    with caplog.at_level(logging.INFO, logger="bot.services.digest"):
        [posted] = await services.digests.run_due(poster)
        assert await services.digests.run_due(poster) == []  # posted once
    assert posted.state == "posted" and poster.sent == {1001: 1}
    cleared = [r.getMessage() for r in caplog.records if r.name == "bot.services.digest"]
    assert cleared == [
        f"digest for guild 1 channel 1001 on 2026-08-01 works again after {TICKS} failed tries in 0 s"
    ]
    assert database.writes.unwritable is None
