"""The bot keeps its SQLite full-text indexes merged into one segment, in short steps beside serving
(bot.storage.index_merge): members get the same answers before and after a merge, a stop at any
step leaves a whole index, a command arriving meanwhile is answered, and a store opened read-only
is never written."""

from __future__ import annotations

import asyncio
import random
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.corpus import generate
from bot.domain.models import ListedPaper
from bot.errors import StorageUnavailable
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.database import Database, WriteWait, wait_for_writes
from bot.storage.index_merge import INDEXES, Merged, merge_indexes, segment_counts
from tests.conftest import FIXED_NOW
from tests.index_merge_steps import StepWatch
from tests.property_budget import examples


async def _open_services(database: Database) -> Services:
    # A new Services each time: the answers are computed from the index, never from a cache.
    return await Services.open(database, Settings(), clock=lambda: FIXED_NOW)


async def _ingest_in_commits(database: Database, papers: list[ListedPaper], commits: int) -> None:
    """Each commit leaves a segment of its own (as each fetch of a running bot does)."""
    services = await _open_services(database)
    size = max(1, -(-len(papers) // commits))
    for start in range(0, len(papers), size):
        await services.papers.ingest(papers[start : start + size])


async def _answers(database: Database, queries: list[str], similar_to: list[str]) -> list[object]:
    """Everything a member sees that the full-text indexes decide: search pages, title suggestions,
    "more like this"."""
    services = await _open_services(database)
    seen: list[object] = []
    for query in queries:
        hits = await services.papers.search.search(query, limit=10)
        seen.append([(hit.paper.id, round(hit.score, 9), hit.snippet, hit.fuzzy, hit.phrase) for hit in hits])
        seen.append([(s.paper_id, s.title) for s in await services.papers.search.suggest(query[:6])])
    for paper_id in similar_to:
        paper = await services.papers.show(paper_id)
        seen.append(
            [(p.paper.id, round(p.score, 9), p.shared) for p in await services.similar.similar(paper)]
        )
    return seen


def _fts_check(path: Path | str) -> None:
    """FTS5's own check that each index agrees with the rows it indexes (raises if not)."""
    with closing(sqlite3.connect(path)) as connection:
        for index in INDEXES:
            connection.execute(f"INSERT INTO {index} ({index}) VALUES ('integrity-check')")


def _queries(papers: list[ListedPaper], rng: random.Random) -> tuple[list[str], list[str]]:
    """Searches of a few title words (and one with a typo), and papers to find similar ones to."""
    queries = []
    for paper in rng.sample(papers, min(6, len(papers))):
        words = paper.paper.title.split()
        start = rng.randrange(len(words))
        queries.append(" ".join(words[start : start + rng.randint(1, 3)]))
    queries.append(queries[0][:-1] + "x" if len(queries[0]) > 4 else "modle")  # a typo: the fuzzy path
    return queries, [listed.paper.id for listed in rng.sample(papers, min(3, len(papers)))]


@settings(max_examples=examples(12), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(min_value=20, max_value=90),
    commits=st.integers(min_value=2, max_value=7),
    seed=st.integers(min_value=0, max_value=10_000),
    step_pages=st.sampled_from([1, 3, 64]),
)
def test_every_answer_is_the_same_after_the_indexes_are_merged_to_one_segment(
    migrated_store: Path, n: int, commits: int, seed: int, step_pages: int
) -> None:
    papers = list(generate(n, seed=seed))
    rng = random.Random(seed)

    async def check(path: Path) -> None:
        database = await Database.open(path)
        try:
            await _ingest_in_commits(database, papers, commits)
            queries = _queries(papers, rng)
            before = await _answers(database, *queries)
            assert any(before)  # the members' answers compared below are not all empty
            segments = await segment_counts(database)
            assert max(segments.values()) >= 2  # there is something to merge

            merged = await merge_indexes(database, above=1, pages=step_pages)

            assert merged.finished and merged.steps >= 1
            assert merged.before == segments
            assert await segment_counts(database) == merged.after == dict.fromkeys(INDEXES, 1)
            assert await _answers(database, *queries) == before
        finally:
            await database.close()
        _fts_check(path)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "store.db"
        shutil.copyfile(migrated_store, path)
        asyncio.run(check(path))


async def test_an_index_at_or_below_the_limit_is_left_as_it_is(
    database: Database, sample_papers: list[ListedPaper]
) -> None:
    await _ingest_in_commits(database, sample_papers, 3)
    segments = await segment_counts(database)

    merged = await merge_indexes(database, above=max(segments.values()))

    assert merged.steps == 0 and not merged.merged_any
    assert await segment_counts(database) == segments


def _stop_after(steps: int) -> Callable[[], bool]:
    asked = 0

    def stopped() -> bool:
        nonlocal asked
        asked += 1
        return asked > steps

    return stopped


async def test_a_stop_between_steps_leaves_whole_indexes_and_the_next_pass_finishes(
    database: Database,
) -> None:
    papers = list(generate(120, seed=3))
    await _ingest_in_commits(database, papers, 6)
    queries = _queries(papers, random.Random(3))
    before = await _answers(database, *queries)

    stopped = await merge_indexes(database, above=1, pages=1, stopped=_stop_after(3))

    assert not stopped.finished and stopped.steps == 3 and "stopped" in stopped.describe()
    _fts_check(database.path)
    assert await _answers(database, *queries) == before
    resumed = await merge_indexes(database, above=1, pages=1)
    assert resumed.finished and resumed.after == dict.fromkeys(INDEXES, 1)
    assert await _answers(database, *queries) == before


HANG_GUARD = 120.0  # seconds: only a bound on a hang (a writer held across steps), never a timing


async def _merge_under_way(
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    *,
    first_holds: asyncio.Event | None = None,
    later_wait: asyncio.Event | None = None,
) -> tuple[StepWatch, asyncio.Task[Merged]]:
    """A merge of the smallest steps started in the background, its first step holding the writer."""
    steps = StepWatch(monkeypatch, first_holds=first_holds, later_wait=later_wait)
    merging = asyncio.create_task(merge_indexes(database, above=1, pages=1))
    await steps.started.wait()
    return steps, merging


async def test_the_bot_stopping_during_a_step_rolls_it_back_and_leaves_the_writer_free(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    papers = list(generate(120, seed=5))
    await _ingest_in_commits(database, papers, 6)
    queries = _queries(papers, random.Random(5))
    before = await _answers(database, *queries)
    _, merging = await _merge_under_way(database, monkeypatch)

    merging.cancel()
    with pytest.raises(asyncio.CancelledError):
        await merging

    services = await _open_services(database)
    await services.follows.add(7, None, "diffusion")  # the next write gets the writer
    assert [f.keyword for f in await services.follows.list_follows(7)] == ["diffusion"]
    _fts_check(database.path)
    assert await _answers(database, *queries) == before


async def test_a_command_arriving_during_a_merge_is_answered_before_the_merge_ends(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    papers = list(generate(150, seed=9))
    await _ingest_in_commits(database, papers, 6)
    services = await _open_services(database)
    deferred, answered = asyncio.Event(), asyncio.Event()
    # The first step keeps the writer until the member's write has met it and deferred; later
    # steps wait for the answer, so a writer held across steps would never answer (the guard).
    steps, merging = await _merge_under_way(database, monkeypatch, first_holds=deferred, later_wait=answered)

    async def defer() -> None:
        deferred.set()

    # An interaction's write, as cogs run it: it may defer, then waits a bounded time.
    wait_for_writes(WriteWait(before_waiting=defer, budget=30.0))
    try:
        await asyncio.wait_for(services.follows.add(42, None, "diffusion"), HANG_GUARD)
    except StorageUnavailable:  # pragma: no cover - the failure this test is about
        pytest.fail("the member's write was refused while the index merged")
    finally:
        wait_for_writes(None)
    steps_when_answered = steps.taken
    answered.set()
    merged = await merging

    assert deferred.is_set()  # it met the merge holding the writer, deferred, and waited...
    assert steps_when_answered < merged.steps  # ...for one step, not for the whole merge
    assert merged.finished and merged.after == dict.fromkeys(INDEXES, 1)
    assert [f.keyword for f in await services.follows.list_follows(42)] == ["diffusion"]


async def test_a_store_opened_read_only_is_never_merged(tmp_path: Path, migrated_store: Path) -> None:
    path = tmp_path / "store.db"
    shutil.copyfile(migrated_store, path)
    writable = await Database.open(path)
    await _ingest_in_commits(writable, list(generate(60, seed=1)), 5)
    segments = await segment_counts(writable)
    await writable.close()
    content = path.read_bytes()

    readonly = await Database.open_readonly(path)
    try:
        services = await Services.open(readonly, Settings(), clock=lambda: FIXED_NOW, warm=False)
        assert await services.merge_indexes() is None
        assert (await merge_indexes(readonly, above=1)).steps == 0
        assert await segment_counts(readonly) == segments
    finally:
        await readonly.close()
    assert path.read_bytes() == content
