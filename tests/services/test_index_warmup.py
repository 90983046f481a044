"""After a restart the bot reads what searches need once, in the background, so the first searches
and "Similar" presses do not wait on the disk a page at a time: on SQLite every row of the
full-text indexes, on PostgreSQL every block of the search indexes and the papers' rows
(bot.storage.pg_warmup); a stop request ends it between chunks, and answers stay the same."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing

import pytest

from bot.domain.models import ListedPaper
from bot.services.container import Services
from bot.settings import Settings
from bot.storage import index_warmup, pg_warmup
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


async def _relation_bytes(database: Store, relations: str) -> int:
    """Bytes of the PostgreSQL relations named in the JSON list ``relations``."""
    sql = "SELECT sum(pg_relation_size(to_regclass(name))) FROM json_array_elements_text(?::json) AS name"
    async with database.transaction() as connection, connection.execute(sql, (relations,)) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def _toast_bytes(database: Store) -> int:
    """Bytes of the TOAST of the papers table (abstracts and author lists too long for the row)."""
    sql = "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = to_regclass(?)"
    async with database.transaction() as connection, connection.execute(sql, (pg_warmup.TOAST_OF,)) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def test_every_index_row_is_read_on_sqlite_and_every_search_block_on_postgres(
    database: Store, sample_papers: list[ListedPaper], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_warmup, "CHUNK_ROWS", 3)  # several chunks a table, as in a large store
    monkeypatch.setattr(pg_warmup, "CHUNK_BLOCKS", 2)
    services = await Services.open(database, Settings(), clock=lambda: FIXED_NOW)
    await services.papers.ingest(sample_papers)

    warmed = await services.warm_indexes()

    if isinstance(warmed, pg_warmup.PgWarmed):
        # The test server's role may create pg_prewarm, so every block of every relation is read.
        relations = json.dumps([name for name, _ in pg_warmup.WARMED])
        assert warmed.finished and warmed.how == pg_warmup.PREWARM
        expected = await _relation_bytes(database, relations) + await _toast_bytes(database)
        assert warmed.bytes_read == expected > 0
        assert "read ahead (pg_prewarm)" in warmed.describe() and "MiB in" in warmed.describe()
        return
    assert isinstance(warmed, index_warmup.Warmed) and warmed.finished
    assert warmed.rows == _index_rows(database.path) > 3 * len(INDEX_TABLES)
    assert "read into the OS page cache" in warmed.describe()


async def test_a_stop_ends_the_reading_after_the_chunk_in_hand(
    database: Store, sample_papers: list[ListedPaper], monkeypatch: pytest.MonkeyPatch
) -> None:
    if database.dialect.postgres:
        pytest.skip("SQLite's reader (PostgreSQL's stop: tests/test_runner_warmup.py)")
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


async def _answers(services: Services, queries: list[str]) -> list[list[tuple[object, ...]]]:
    services.papers.search.forget_answers()  # computed afresh, not remembered from the last call
    return [
        [
            (hit.paper.id, hit.score, hit.fuzzy, hit.phrase)
            for hit in await services.papers.search.search(text)
        ]
        for text in queries
    ]


async def test_search_answers_are_the_same_after_the_warm_up(
    database: Store, sample_papers: list[ListedPaper]
) -> None:
    services = await Services.open(database, Settings(), clock=lambda: FIXED_NOW)
    await services.papers.ingest(sample_papers)
    queries = ["model", '"language model" reasoning', "modle", "video OR agent"]
    before = await _answers(services, queries)

    await services.warm_indexes()

    assert await _answers(services, queries) == before and all(before)
