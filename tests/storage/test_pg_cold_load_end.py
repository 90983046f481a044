"""The end of a cold PostgreSQL load (bot.storage.pg_bulk.IndexBuilds): a failure in any step
fails the whole load, and the store's indexes and constraints are the same afterwards."""

from __future__ import annotations

import asyncio

import pytest

from bot.services.papers import BATCH_SIZE, PaperService
from bot.storage import pg_bulk
from bot.storage.held_links import HeldLinks, LinkRows
from bot.storage.papers import PaperRepository
from bot.storage.postgres import PostgresDatabase
from tests.storage.test_pg_ingest_equivalence import many, search_indexes, unique_constraints


@pytest.fixture
def service(cold_load_service: PaperService) -> PaperService:
    return cold_load_service


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
