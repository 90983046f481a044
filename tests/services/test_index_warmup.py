"""After a restart the bot reads its SQLite store's full-text indexes once, in the background, so the
first searches and "Similar" presses do not wait on the disk a page at a time: every row of those
indexes is read, a stop request ends it between chunks, and on PostgreSQL (whose server keeps its
own cache) nothing is read."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from bot.domain.models import ListedPaper
from bot.services.container import Services
from bot.settings import Settings
from bot.storage import index_warmup
from bot.storage.connection import Store
from tests.conftest import FIXED_NOW

INDEX_TABLES = (
    "term_docs",
    "papers_fts_idx",
    "titles_fts_idx",
    "papers_fts_docsize",
    "titles_fts_docsize",
    "papers_fts_data",
    "titles_fts_data",
)


def _index_rows(path: str) -> int:
    with closing(sqlite3.connect(path)) as connection:
        return sum(int(connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in INDEX_TABLES)


async def test_every_index_row_is_read_on_sqlite_and_nothing_on_postgres(
    database: Store, sample_papers: list[ListedPaper], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_warmup, "CHUNK_ROWS", 3)  # several chunks a table, as in a large store
    services = await Services.open(database, Settings(), clock=lambda: FIXED_NOW)
    await services.papers.ingest(sample_papers)

    warmed = await services.warm_indexes()

    if database.dialect.postgres:
        assert warmed is None
        return
    assert warmed is not None and warmed.finished
    assert warmed.rows == _index_rows(database.path) > 3 * len(INDEX_TABLES)
    assert "read into the OS page cache" in warmed.describe()


async def test_a_stop_ends_the_reading_after_the_chunk_in_hand(
    database: Store, sample_papers: list[ListedPaper], monkeypatch: pytest.MonkeyPatch
) -> None:
    if database.dialect.postgres:
        pytest.skip("PostgreSQL reads nothing ahead (the test above)")
    monkeypatch.setattr(index_warmup, "CHUNK_ROWS", 1)
    services = await Services.open(database, Settings(), clock=lambda: FIXED_NOW)
    await services.papers.ingest(sample_papers)
    asked = 0

    def stopped_after_five_chunks() -> bool:
        nonlocal asked
        asked += 1
        return asked > 5

    warmed = index_warmup.read_indexes(database.path, stopped_after_five_chunks)

    assert not warmed.finished and "stopped" in warmed.describe()
    assert 0 < warmed.rows < _index_rows(database.path)
