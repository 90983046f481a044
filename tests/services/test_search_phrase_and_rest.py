"""A search of several words asks for the papers holding them as one phrase and for the best of
the rest at once, on two read connections, so the slowest searches at a million papers wait for
the longer of the two queries, not for both; the answer is the one asking them in turn gave: the
phrase's papers first, then the others. When the phrase alone fills the page the rest is given up
(its read stops where it is, tests/storage/test_stoppable_reads.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.domain.models import ListedPaper, Paper, Source
from bot.services.papers import PaperService
from bot.storage.papers import PaperRepository, TextHit

# How long the test waits for the other query before calling the search one-at-a-time (a guard
# against hanging, not a timing).
STUCK_SECONDS = 60


def _paper(n: int, abstract: str) -> ListedPaper:
    return ListedPaper(
        Paper(title=f"Note {n}", abstract=abstract, source=Source.HF_API, arxiv_id=f"2501.{n:05d}")
    )


PAPERS = [
    _paper(1, "A sparse graph of agents."),
    _paper(2, "Each graph here is sparse, and the graph is small."),
    _paper(3, "Graph methods; sparse methods."),
    _paper(4, "Nothing about either."),
]


def _sqlite_only(service: PaperService) -> None:
    if service.database.dialect.postgres:
        pytest.skip("PostgreSQL asks the two queries in turn (cancelling one costs a connection)")


async def test_the_phrase_and_the_rest_are_asked_at_once_and_the_phrase_comes_first(
    service: PaperService, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sqlite_only(service)
    await service.ingest(PAPERS)
    both = asyncio.Barrier(2)
    real = PaperRepository.match

    async def meeting(self: PaperRepository, fts: str, **options: Any) -> list[TextHit]:
        await asyncio.wait_for(both.wait(), STUCK_SECONDS)  # only when the other query is asked too
        return await real(self, fts, **options)

    monkeypatch.setattr(PaperRepository, "match", meeting)
    results = await service.search.find("sparse graph", limit=3)
    assert results.hits[0].paper.arxiv_id == "2501.00001"
    assert [hit.phrase for hit in results.hits] == [True, False, False]
    assert {hit.paper.arxiv_id for hit in results.hits[1:]} == {"2501.00002", "2501.00003"}
    assert results.total == 3


async def test_a_page_the_phrase_fills_gives_the_rest_up(
    service: PaperService, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sqlite_only(service)
    await service.ingest(PAPERS)
    real = PaperRepository.match
    rest_given_up = asyncio.Event()

    async def slow_rest(self: PaperRepository, fts: str, **options: Any) -> list[TextHit]:
        if '"sparse graph"' in fts:  # the phrase answers at once
            return await real(self, fts, **options)
        try:  # the rest never would: only a search that gives it up returns
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            rest_given_up.set()
            raise
        raise AssertionError("unreachable")

    monkeypatch.setattr(PaperRepository, "match", slow_rest)
    results = await asyncio.wait_for(service.search.find("sparse graph", limit=1), STUCK_SECONDS)
    assert [(hit.paper.arxiv_id, hit.phrase) for hit in results.hits] == [("2501.00001", True)]
    assert results.total == 3
    await asyncio.wait_for(rest_given_up.wait(), STUCK_SECONDS)
