"""The end of a cold PostgreSQL load (bot.storage.pg_bulk.IndexBuilds): ordered so that both cores
work through it, with a failure in any step failing the whole load, and the store's indexes and
constraints the same afterwards.

The speed itself is measured by ``python -m bench ingest --backend postgres``
(docs/performance.md, "Twelfth session"); the order it came from is pinned here, so a change that
undoes it fails a test instead of quietly costing the load its overlap.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any

import pytest

from bot.services.papers import BATCH_SIZE, PaperService
from bot.storage import pg_bulk
from bot.storage.held_links import HeldLinks, LinkRows
from bot.storage.papers import PaperRepository
from bot.storage.postgres import PgResult, PgRoutedConnection, PostgresDatabase
from tests.conftest import FIXED_NOW
from tests.storage.test_pg_ingest_equivalence import many, search_indexes, unique_constraints

# A b-tree on the papers whose definition holds the words " USING gin ": told apart from a GIN
# index by the catalog's access method, not by its definition's text.
ODD_BTREE = "CREATE INDEX papers_by_odd_title ON papers ((title || ' USING gin '))"
# The last statement issued beside the thread making the link rows (the papers' constraints
# come after their b-trees and the title GIN).
LAST_BESIDE = 'ADD CONSTRAINT "papers_id_key"'


def built(statements: list[str]) -> list[str]:
    """The COPYs, and the names of the indexes and constraints made, in ``statements``."""
    made = []
    for statement in statements:
        named = re.match(r'CREATE INDEX (\w+)|ALTER TABLE \S+ ADD CONSTRAINT "(\w+)"', statement)
        if statement.startswith("COPY"):
            made.append(statement)
        elif named:
            made.append(named[1] or named[2])
    return made


@pytest.fixture
async def service(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[PaperService]:
    monkeypatch.setattr(pg_bulk, "COLD_LOAD_PAPERS", 1000)  # the real threshold is 10,000 papers
    store = await PostgresDatabase.open(postgres_url)
    paper_service = PaperService(store, clock=lambda: FIXED_NOW)
    await paper_service.start()
    try:
        yield paper_service
    finally:
        await store.close()


def record_statements(monkeypatch: pytest.MonkeyPatch, heard: Callable[[str], None]) -> None:
    """Call ``heard`` with each statement and COPY as the store sends it."""
    execute, copy_rows = PgRoutedConnection.execute, PgRoutedConnection.copy_rows

    def recorded_execute(
        self: PgRoutedConnection, sql: str, parameters: Iterable[Any] | None = None
    ) -> PgResult:
        heard(sql)
        return execute(self, sql, parameters)

    async def recorded_copy(
        self: PgRoutedConnection,
        table: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        **kinds: Any,
    ) -> int:
        heard(f"COPY {table}")
        return await copy_rows(self, table, columns, rows, **kinds)

    monkeypatch.setattr(PgRoutedConnection, "execute", recorded_execute)
    monkeypatch.setattr(PgRoutedConnection, "copy_rows", recorded_copy)


async def test_the_end_of_a_cold_load_builds_beside_the_link_rows_and_the_search_index_last(
    service: PaperService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While this process makes the link rows on a thread, the server writes the word counts and
    builds what does not need those rows (the title GIN, the papers' b-trees and unique
    constraints); then the links are written and their tables' keys and b-trees built; the papers'
    search index is built last, alone, with both cores."""
    store = service.database
    assert isinstance(store, PostgresDatabase)
    await store.connection.execute(ODD_BTREE)
    try:
        indexes, constraints = await search_indexes(store), await unique_constraints(store)
        statements: list[str] = []
        beside_done = threading.Event()

        def heard(sql: str) -> None:
            statements.append(sql)
            if LAST_BESIDE in sql:
                beside_done.set()

        record_statements(monkeypatch, heard)
        rows = HeldLinks.rows

        def rows_made_beside(links: HeldLinks) -> LinkRows:
            # The thread ends only once the server has been given everything that goes beside it
            # (a bound, not a pause: on the old order it would wait for ever).
            assert beside_done.wait(timeout=30), "the papers' constraints were not built beside the thread"
            made = rows(links)
            statements.append("link rows made")
            return made

        monkeypatch.setattr(HeldLinks, "rows", rows_made_beside)
        await service.ingest(many(BATCH_SIZE + 500))
        monkeypatch.undo()

        end = statements[statements.index("COPY term_docs") :]
        made = end.index("link rows made")
        assert built(end[:made]) == [
            "COPY term_docs", "COPY title_terms",
            "papers_by_created", "papers_by_odd_title", "papers_by_title_key", "title_search_words",
            "papers_arxiv_id_key", "papers_id_key",
        ]  # fmt: skip
        assert built(end[made + 1 :]) == [
            "COPY listings", "COPY paper_signals", "COPY paper_people", "COPY people_names",
            "listings_by_date", "listings_by_paper",
            "listings_pkey", "paper_people_pkey", "paper_signals_pkey",
            "papers_search",  # last: nothing else runs beside it
        ]  # fmt: skip
        assert await search_indexes(store) == indexes
        assert await unique_constraints(store) == constraints
    finally:
        await store.connection.execute("DROP INDEX IF EXISTS papers_by_odd_title")


@pytest.mark.parametrize("failing", ["link rows", "word counts"])
async def test_a_cold_load_failing_at_its_end_beside_the_thread_writes_nothing(
    service: PaperService, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """A failure while the link rows are made, or in the server's work beside them, fails the whole
    load: no paper stored, and the empty store keeps its indexes and constraints."""
    store = service.database
    assert isinstance(store, PostgresDatabase)
    indexes, constraints = await search_indexes(store), await unique_constraints(store)

    def rows_failing(_: HeldLinks) -> LinkRows:
        raise RuntimeError("the process failed while making the link rows")

    async def counts_failing(*_: object) -> None:
        raise RuntimeError("the server refused the word counts")

    if failing == "link rows":
        monkeypatch.setattr(HeldLinks, "rows", rows_failing)
    else:
        monkeypatch.setattr(PaperRepository, "_write_held_counts", counts_failing)
    with pytest.raises(RuntimeError, match="link rows" if failing == "link rows" else "word counts"):
        await service.ingest(many(BATCH_SIZE + 500))
    monkeypatch.undo()
    assert await service.repository.count() == 0
    assert await search_indexes(store) == indexes
    assert await unique_constraints(store) == constraints


async def test_indexes_a_cold_load_block_left_unbuilt_are_built_without_a_thread(
    service: PaperService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A block that does not build its indexes itself gets them built as it ends, the same as
    before, with no thread started to run nothing beside them."""
    store = service.database
    assert isinstance(store, PostgresDatabase)
    indexes, constraints = await search_indexes(store), await unique_constraints(store)

    async def no_thread(*_: object) -> None:
        raise AssertionError("a thread was started with nothing to do")

    monkeypatch.setattr(asyncio, "to_thread", no_thread)
    async with store.transaction() as db, pg_bulk.search_indexes_built_after(db, 1000) as builds:
        assert builds is not None
        assert await search_indexes(store) != indexes  # dropped while the block runs
    assert await search_indexes(store) == indexes
    assert await unique_constraints(store) == constraints
