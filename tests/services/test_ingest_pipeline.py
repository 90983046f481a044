"""An ingest prepares each batch's rows apart from writing them (bot.services.papers): it stores
exactly what storing the batches one after the other stores, with duplicates, title-only captures
and updates falling in other batches than their papers; a failure in batch k of n, in its
preparation, in its write or in making a row (on PostgreSQL inside the COPY that streams it), writes
nothing; the hooks hear the papers the batches inserted and
progress counts every batch. An ingest of more than one batch freezes the objects alive before it,
and they are collected again after."""

from __future__ import annotations

import gc
import json
import random
import sqlite3
import weakref
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from bot.domain.models import ListedPaper, Paper, Signals
from bot.parsing.hf_api import parse_hf_api
from bot.services import papers as paper_service
from bot.services.papers import PaperService
from bot.storage import paper_rows
from bot.storage.connection import Store
from bot.storage.generations import GenerationRepository
from bot.storage.papers import PaperRepository, StoredPaper, UpsertCounts
from tests.backends import fresh_store
from tests.conftest import FIXED_NOW
from tests.hf_api import recorded_day
from tests.storage.test_ingest_equivalence import unicode_papers
from tests.storage.test_pg_ingest_equivalence import crafted, snapshot

SMALL_BATCH = 5
DAY = date(2024, 7, 31)
NEXT = date(2024, 8, 1)


def real_sample() -> list[ListedPaper]:
    """A recorded Hugging Face day with the crafted duplicates and unicode papers, then, shuffled
    among new papers so they land in later batches: a title-only page capture of every third
    recorded paper (merged into it by title), every fourth listed again a day later with more
    votes and a new version (an update), and every fifth listed twice that day."""
    recorded = parse_hf_api(json.dumps(recorded_day()).encode(), list_date=DAY)
    assert len(recorded) > 4 * SMALL_BATCH
    first = recorded + crafted() + unicode_papers()
    later: list[ListedPaper] = []
    for number, item in enumerate(recorded):
        paper = item.paper
        if number % 3 == 0:
            capture = Paper(paper.title + "!", "A page capture of it.", "hf-page", upvotes=number)
            later.append(ListedPaper(capture, NEXT, number + 1))
        if number % 4 == 0:
            again = replace(
                paper, upvotes=(paper.upvotes or 0) + 10, arxiv_version=(paper.arxiv_version or 1) + 1
            )
            later.append(ListedPaper(again, NEXT, number + 1, Signals((paper.upvotes or 0) + 10)))
        if number % 5 == 0:
            later.append(replace(item, list_date=NEXT, rank=number + 2))
    fresh = [
        ListedPaper(
            Paper(f"A new paper number {n}", f"Abstract {n}.", "hf-api", arxiv_id=f"2408.{n:05d}"), NEXT, n
        )
        for n in range(3 * SMALL_BATCH)
    ]
    later += fresh
    random.Random(13).shuffle(later)
    return first + later


@pytest.fixture
async def reference(database: Store, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A second empty store of the same backend as ``database``."""
    async with fresh_store(request, tmp_path / "reference.db", postgres=database.dialect.postgres) as store:
        yield store


async def stored_in_turn(store: Store, listed: Sequence[ListedPaper]) -> UpsertCounts:
    """The ingest as it was: one transaction, each batch upserted after the one before."""
    repository = PaperRepository.of(store)
    counts = UpsertCounts()
    async with store.transaction():
        for start in range(0, len(listed), SMALL_BATCH):
            counts += await repository.upsert(listed[start : start + SMALL_BATCH], FIXED_NOW)
        if counts.new or counts.updated:
            await GenerationRepository.of(store).bump("papers")
    return counts


def ids(papers: Sequence[StoredPaper]) -> list[str]:
    return [stored.paper.id for stored in papers]


async def test_the_ingest_stores_what_the_batches_stored_one_after_the_other_store(
    database: Store, reference: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paper_service, "BATCH_SIZE", SMALL_BATCH)
    service = PaperService(database, clock=lambda: FIXED_NOW)
    inserted: list[str] = []
    code_linked: list[str] = []
    revised: list[str] = []
    service.on_inserted(lambda papers: _record(inserted, papers))
    service.on_code_linked(lambda papers: _record(code_linked, papers))
    service.on_revised(lambda papers: _record(revised, papers))
    progress: list[int] = []
    sample = real_sample()
    halves = sample[: len(sample) // 2], sample[len(sample) // 2 :]

    for half in halves:
        expected = await stored_in_turn(reference, half)
        for heard in (inserted, code_linked, revised, progress):
            heard.clear()
        counts = await service.ingest(half, progress=progress.append)
        assert (counts.new, counts.updated, counts.unchanged) == (
            expected.new,
            expected.updated,
            expected.unchanged,
        )
        assert inserted == ids(expected.inserted)
        assert code_linked == ids(expected.code_linked)
        assert revised == ids(expected.revised)
        assert progress == [
            len(half[start : start + SMALL_BATCH]) for start in range(0, len(half), SMALL_BATCH)
        ]
    assert counts.updated and revised  # the later half updated stored papers
    assert await snapshot(database) == await snapshot(reference)


async def _record(into: list[str], papers: Sequence[StoredPaper]) -> None:
    into.extend(ids(papers))


@pytest.mark.parametrize("step", ["prepare", "write"])
@pytest.mark.parametrize("failing_batch", [1, 2, 3, 4])
async def test_a_failure_in_batch_k_of_n_writes_nothing(
    database: Store, monkeypatch: pytest.MonkeyPatch, failing_batch: int, step: str
) -> None:
    monkeypatch.setattr(paper_service, "BATCH_SIZE", SMALL_BATCH)
    service = PaperService(database, clock=lambda: FIXED_NOW)
    heard: list[str] = []
    service.on_inserted(lambda papers: _record(heard, papers))
    sample = real_sample()
    await service.ingest(sample[:SMALL_BATCH])
    before = await snapshot(database)
    heard.clear()
    batches = sample[SMALL_BATCH : 5 * SMALL_BATCH]  # 4 batches, each with papers already stored or new

    real = getattr(PaperRepository, step)
    calls = 0

    async def failing(self: PaperRepository, *args: object) -> object:
        nonlocal calls
        calls += 1
        if calls == failing_batch:
            raise sqlite3.OperationalError(f"simulated failure in the {step} of batch {failing_batch}")
        return await real(self, *args)

    monkeypatch.setattr(PaperRepository, step, failing)
    with pytest.raises(sqlite3.OperationalError, match=f"batch {failing_batch}"):
        await service.ingest(batches)
    monkeypatch.undo()
    monkeypatch.setattr(paper_service, "BATCH_SIZE", SMALL_BATCH)
    assert await snapshot(database) == before
    assert heard == []  # the hooks (alerts) run only after the last batch was written

    counts = await service.ingest(batches)  # the store is usable and the same ingest stores it whole
    assert counts.new + counts.updated + counts.unchanged > 0
    assert await snapshot(database) != before


@pytest.mark.parametrize("failing_batch", [1, 2, 3, 4])
async def test_a_failure_in_making_a_row_of_batch_k_of_n_writes_nothing(
    database: Store, monkeypatch: pytest.MonkeyPatch, failing_batch: int
) -> None:
    """On PostgreSQL the new papers' rows are made as the COPY streams them, after the batches
    before were written: a row that cannot be made fails the whole ingest all the same."""
    monkeypatch.setattr(paper_service, "BATCH_SIZE", SMALL_BATCH)
    service = PaperService(database, clock=lambda: FIXED_NOW)
    fresh = [
        ListedPaper(Paper(f"Fresh paper {n}", f"Abstract {n}.", "hf-api", arxiv_id=f"2409.{n:05d}"), NEXT, n)
        for n in range(4 * SMALL_BATCH)
    ]
    await service.ingest(real_sample()[:SMALL_BATCH])
    before = await snapshot(database)
    doomed = fresh[(failing_batch - 1) * SMALL_BATCH + 2].paper.id
    real = paper_rows.row_values

    def failing(paper: Paper, now: str) -> tuple[object, ...]:
        if paper.id == doomed:
            raise ValueError(f"simulated failure making the row of {doomed}")
        return real(paper, now)

    monkeypatch.setattr(paper_rows, "row_values", failing)
    with pytest.raises(ValueError, match=doomed):
        await service.ingest(fresh)
    assert await snapshot(database) == before
    monkeypatch.setattr(paper_rows, "row_values", real)
    assert (await service.ingest(fresh)).new == len(fresh)


async def test_a_big_ingest_freezes_the_objects_before_it_and_they_are_collected_after(
    database: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paper_service, "BATCH_SIZE", 2)
    service = PaperService(database, clock=lambda: FIXED_NOW)

    class Node:
        def __init__(self) -> None:
            self.me = self  # a cycle: only a collection frees it

    held = [Node()]  # alive when the ingest starts: frozen with everything else alive then
    old_gone = weakref.ref(held[0])
    seen: list[tuple[int, bool, bool]] = []

    def progress(_: int) -> None:
        held.clear()  # the old cycle is garbage now, but frozen: not collected before the ingest ends
        during = Node()
        during_gone = weakref.ref(during)
        del during
        gc.collect()  # collections still run and free what the ingest's own time made
        seen.append((gc.get_freeze_count(), during_gone() is None, old_gone() is None))

    await service.ingest(real_sample()[:5], progress=progress)
    assert len(seen) == 3
    assert all(frozen > 0 and freed and not old_freed for frozen, freed, old_freed in seen)
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert old_gone() is None  # unfrozen after the ingest: the next collection frees it


async def test_an_ingest_in_the_running_bot_leaves_its_frozen_start_up_heap_frozen(
    database: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``paperbot run`` freezes what start-up built (bot.runner.freeze_startup_heap): a big fetch
    must not hand it back to every full collection, whose pauses the members would wait through."""
    monkeypatch.setattr(paper_service, "BATCH_SIZE", 2)
    service = PaperService(database, clock=lambda: FIXED_NOW)
    gc.freeze()
    try:
        start_up = gc.get_freeze_count()
        await service.ingest(real_sample()[:5])
        # Still frozen (reference counting frees some frozen objects meanwhile; unfrozen it would be 0).
        assert gc.get_freeze_count() > start_up // 2
    finally:
        gc.unfreeze()
