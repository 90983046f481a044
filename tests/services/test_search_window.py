"""A broad search ranks the newest matches (the candidate window) and still says how many papers
match in all, whichever way the window's floor is found (no floor, walked from the oldest match or
from the newest) and whether or not the count stopped at its cap."""

from __future__ import annotations

import pytest

from bot.domain.models import ListedPaper, Paper, Source
from bot.services.papers import PaperService
from bot.services.search import SearchEngine

PAPERS = 30
LENGTH = 40  # every abstract as long, so BM25 orders them by how often they say "ledger"


def strength(n: int) -> int:
    """How many times paper ``n`` says "ledger": all different, old and new mixed."""
    return (n * 7) % PAPERS + 1


@pytest.fixture
async def ledgers(service: PaperService) -> PaperService:
    await service.ingest(
        [
            ListedPaper(
                Paper(
                    title=f"Bookkeeping note {n}",
                    abstract=" ".join(["ledger"] * strength(n) + ["filler"] * (LENGTH - strength(n))),
                    source=Source.HF_API,
                    arxiv_id=f"2501.{n:05d}",
                )
            )
            for n in range(PAPERS)  # ingested in order: paper n is the (n+1)-th oldest
        ]
    )
    return service


@pytest.mark.parametrize("cap", [1, 2, 7, 14, 15, 16, 29, 30, 31, 100])
async def test_the_best_of_the_newest_cap_matches_come_first_and_all_matches_are_counted(
    ledgers: PaperService, cap: int
) -> None:
    engine = SearchEngine(ledgers.repository, search_candidates=cap)
    results = await engine.find("ledger", limit=10)
    newest = range(max(0, PAPERS - cap - 1), PAPERS)  # from the floor up: the cap+1 newest
    expected = sorted(newest, key=strength, reverse=True)[:10]
    assert [hit.paper.arxiv_id for hit in results.hits] == [f"2501.{n:05d}" for n in expected]
    assert results.total == PAPERS
    assert results.count_text() == f"{len(expected)} of {PAPERS}"


@pytest.mark.parametrize("count_cap", [1, 5, 29, 30, 31])
@pytest.mark.parametrize("cap", [1, 10, 15, 20, 29, 30, 40])
async def test_the_window_and_count_agree_with_walking_from_the_newest_and_counting_to_the_cap(
    ledgers: PaperService, cap: int, count_cap: int
) -> None:
    papers = ledgers.repository
    window = await papers.window('"ledger"', cap, count_cap=count_cap)
    assert window.total == min(PAPERS, count_cap)
    assert window.floor == await papers.window_floor('"ledger"', cap)
