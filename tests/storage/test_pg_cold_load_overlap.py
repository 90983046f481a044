"""A cold load's papers COPY finishes on the server while the next batch is made
(bot.storage.copy_ahead), and its pks are reserved for the whole load at once: a failure anywhere
still fails the whole load with nothing written and its error raised to the caller (never left in
a task), and the papers' sequence goes on from the last pk the load used."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

import bot.storage.paper_rows as rows_module
from bot.domain.models import Paper
from bot.services.papers import BATCH_SIZE, PaperService
from bot.storage import pg_bulk
from bot.storage.loaded_papers import LoadedPapers
from bot.storage.paper_rows import PreparedBatch
from bot.storage.papers import PaperRepository, UpsertCounts
from bot.storage.postgres import PostgresDatabase
from tests.storage.test_ingest_equivalence import unicode_papers
from tests.storage.test_pg_ingest_equivalence import (
    across_batches,
    many,
    search_indexes,
    unique_constraints,
)

if TYPE_CHECKING:
    from bot.storage.pg_document import Tally

REFUSED = "Refused when the statement ends."
# A statement trigger runs when the COPY's last row is in: the server refuses the batch in the
# COPY's tail, after this process sent its last chunk and went on to the next batch.
REFUSING_TRIGGER = (
    "CREATE FUNCTION refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF EXISTS (SELECT 1 FROM papers WHERE abstract = '{REFUSED}') THEN "
    "RAISE EXCEPTION 'the server refused the batch'; END IF; RETURN NULL; END $$",
    "CREATE TRIGGER refuse_marked AFTER INSERT ON papers FOR EACH STATEMENT EXECUTE FUNCTION refuse_marked()",
)
DROP_TRIGGER = ("DROP TRIGGER refuse_marked ON papers", "DROP FUNCTION refuse_marked()")
NEXT_PK = "SELECT nextval(pg_get_serial_sequence('papers', 'pk'))"


@pytest.fixture
def service(cold_load_service: PaperService) -> PaperService:
    return cold_load_service


@pytest.fixture
def unheard_errors() -> Iterator[list[dict[str, Any]]]:
    """What the event loop's exception handler hears (a task's error nobody took, say)."""
    heard: list[dict[str, Any]] = []
    loop = asyncio.get_event_loop()
    before = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: heard.append(context))
    yield heard
    loop.set_exception_handler(before)


def batches_made(monkeypatch: pytest.MonkeyPatch, on_batch: dict[int, Any] | None = None) -> list[int]:
    """The number of papers of each batch whose rows the load began to make, in turn;
    ``on_batch[k]`` is called as the k-th batch's first row is made."""
    made: list[int] = []
    real_vectors = rows_module.paper_vectors

    def recording_vectors(papers: Sequence[Paper], tally: Tally | None = None) -> Iterator[bytes | None]:
        made.append(len(papers))
        if on_batch and len(made) in on_batch:
            on_batch[len(made)]()
        yield from real_vectors(papers, tally)

    monkeypatch.setattr(rows_module, "paper_vectors", recording_vectors)
    return made


async def test_a_copy_refused_in_its_tail_while_the_next_batch_is_made_fails_the_load_whole(
    service: PaperService, monkeypatch: pytest.MonkeyPatch, unheard_errors: list[dict[str, Any]]
) -> None:
    store = service.database
    assert isinstance(store, PostgresDatabase)
    indexes, constraints = await search_indexes(store), await unique_constraints(store)
    listed = many(2 * BATCH_SIZE + 500)
    poisoned = list(listed)
    last_of_first = BATCH_SIZE - 1
    poisoned[last_of_first] = replace(
        listed[last_of_first], paper=replace(listed[last_of_first].paper, abstract=REFUSED)
    )
    for statement in REFUSING_TRIGGER:
        await store.connection.execute(statement)
    try:
        made = batches_made(monkeypatch)
        with pytest.raises(Exception, match="the server refused the batch"):
            await service.ingest(poisoned)
        # The refusal came while the second batch's rows were being made (the overlap), and
        # was raised from there: nothing of either batch is kept.
        assert made == [BATCH_SIZE, BATCH_SIZE]
        assert await service.repository.count() == 0
        assert await search_indexes(store) == indexes
        assert await unique_constraints(store) == constraints
    finally:
        for statement in DROP_TRIGGER:
            await store.connection.execute(statement)
    monkeypatch.undo()
    monkeypatch.setattr(pg_bulk, "COLD_LOAD_PAPERS", 1000)
    # The store is usable and the same load then stores whole.
    counts = await service.ingest(listed)
    assert counts.new == 2 * BATCH_SIZE + 500
    assert await service.repository.count() == 2 * BATCH_SIZE + 500
    assert unheard_errors == []


async def test_a_load_whose_row_fails_while_the_copy_before_runs_writes_nothing(
    service: PaperService, monkeypatch: pytest.MonkeyPatch, unheard_errors: list[dict[str, Any]]
) -> None:
    store = service.database
    listed = many(2 * BATCH_SIZE + 500)

    def fail() -> None:
        raise RuntimeError("the process failed making the second batch's first row")

    batches_made(monkeypatch, {2: fail})
    with pytest.raises(RuntimeError, match="second batch's first row"):
        await service.ingest(listed)
    assert await service.repository.count() == 0
    monkeypatch.undo()
    monkeypatch.setattr(pg_bulk, "COLD_LOAD_PAPERS", 1000)
    assert (await service.ingest(listed)).new == 2 * BATCH_SIZE + 500
    assert await store.connection.fetch_all("SELECT count(*) FROM papers") == [(2 * BATCH_SIZE + 500,)]
    assert unheard_errors == []


async def test_a_load_cancelled_while_a_copy_finishes_writes_nothing_and_ends_cancelled(
    service: PaperService, monkeypatch: pytest.MonkeyPatch, unheard_errors: list[dict[str, Any]]
) -> None:
    store = service.database
    assert isinstance(store, PostgresDatabase)
    indexes = await search_indexes(store)
    listed = many(2 * BATCH_SIZE + 500)
    loading: asyncio.Task[Any] | None = None

    def cancel() -> None:
        assert loading is not None
        loading.cancel()

    batches_made(monkeypatch, {2: cancel})
    loading = asyncio.ensure_future(service.ingest(listed))
    await asyncio.wait((loading,))
    assert loading.cancelled()
    assert await service.repository.count() == 0
    assert await search_indexes(store) == indexes
    monkeypatch.undo()
    monkeypatch.setattr(pg_bulk, "COLD_LOAD_PAPERS", 1000)
    assert (await service.ingest(listed)).new == 2 * BATCH_SIZE + 500
    assert unheard_errors == []


async def test_after_a_load_with_duplicates_the_next_paper_gets_the_next_pk(service: PaperService) -> None:
    """The load reserves a pk for every paper it was given; it inserted fewer (the last hundred are
    listed twice), and the sequence goes on from the last pk it used, as SQLite's would."""
    store = service.database
    listed = many(BATCH_SIZE + 500)  # 2,600 listed, 2,500 papers
    counts = await service.ingest(listed)
    assert counts.new == BATCH_SIZE + 500
    pks = [int(row[0]) for row in await store.connection.fetch_all("SELECT pk FROM papers ORDER BY pk")]
    assert pks == list(range(1, BATCH_SIZE + 501))
    await service.ingest(many(1, first=90_000))
    newest = await store.connection.fetch_all("SELECT max(pk) FROM papers")
    assert newest == [(BATCH_SIZE + 501,)]


async def test_a_pk_another_process_took_during_a_load_is_never_given_again(
    service: PaperService, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's insert waits for the load's lock on papers, but it may have drawn its pks
    from the sequence already: the load then leaves the sequence past them."""
    other = await PostgresDatabase.open(postgres_url)
    drawn: list[int] = []
    real_write = PaperRepository.write

    async def write_then_draw(self: PaperRepository, batch: PreparedBatch) -> UpsertCounts:
        counts = await real_write(self, batch)
        if not drawn:  # after the first batch, inside the load
            drawn.append(int((await other.connection.fetch_all(NEXT_PK))[0][0]))
        return counts

    monkeypatch.setattr(PaperRepository, "write", write_then_draw)
    try:
        await service.ingest(many(BATCH_SIZE + 500))  # 2,600 listed: as many pks reserved
    finally:
        await other.close()
    assert drawn == [BATCH_SIZE + 601]
    await service.ingest(many(1, first=90_000))
    newest = await service.database.connection.fetch_all("SELECT max(pk) FROM papers")
    assert int(newest[0][0]) > drawn[0]


async def test_the_rows_a_load_places_against_are_the_rows_it_stored(
    service: PaperService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold load places each batch against the rows it wrote without reading them back
    (``LoadedPapers.stored``): every row, as the load holds it at its end, is what the server
    reads back, times and the source's text included, after merges across batches."""
    held: list[LoadedPapers] = []
    real_init = LoadedPapers.__init__

    def keeping(self: LoadedPapers) -> None:
        real_init(self)
        held.append(self)

    monkeypatch.setattr(LoadedPapers, "__init__", keeping)
    early, middle, late = across_batches()
    first = many(2 * BATCH_SIZE)
    hostile = unicode_papers()
    listed = [*early, *hostile, *first[:BATCH_SIZE], *middle, *first[BATCH_SIZE:], *late]
    assert (await service.ingest(listed)).new > 2 * BATCH_SIZE
    (loaded,) = held
    stored = await service.repository.by_pks(range(1, 3 * BATCH_SIZE))
    assert len(stored) > 2 * BATCH_SIZE
    for pk, row in stored.items():
        paper = loaded.stored(pk)
        assert paper == row.paper
        assert (paper.created_at, paper.updated_at) == (row.paper.created_at, row.paper.updated_at)
        assert type(paper.source) is str
        assert paper.content_hash() == row.paper.content_hash()
