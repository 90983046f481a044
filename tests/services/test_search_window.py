"""A broad search ranks the newest matches (the candidate window) and still says how many papers
match in all, whichever way the window's floor is found (no floor, walked from the oldest match or
from the newest) and whether or not the count stopped at its cap."""

from __future__ import annotations

import pytest

from bot.domain.models import ListedPaper, Paper, Source
from bot.services import search
from bot.services.papers import PaperService
from bot.services.search import SearchEngine
from bot.storage import pg_search

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


@pytest.mark.parametrize("walked_row_cost", [0, 10**9])  # counted down the walk / through the GIN bitmap
@pytest.mark.parametrize(("count_cap", "expected"), [(10_000, "3 of 10"), (7, "3 of 7+")])
# One word: PostgreSQL may take "7+" from the ingest's word counts instead; two are counted.
@pytest.mark.parametrize("typed", ["ledger", "ledger entries"])
async def test_a_word_in_a_quarter_of_the_papers_is_counted_the_same_either_way(
    service: PaperService,
    monkeypatch: pytest.MonkeyPatch,
    walked_row_cost: int,
    count_cap: int,
    expected: str,
    typed: str,
) -> None:
    # PostgreSQL counts on down the newest-first walk or through the bitmap, whichever should cost
    # less (bot.storage.pg_search.WALKED_ROW_COST); SQLite has one way.
    monkeypatch.setattr(pg_search, "WALKED_ROW_COST", walked_row_cost)
    monkeypatch.setattr(search, "COUNT_CAP", count_cap)
    await service.ingest(
        [
            ListedPaper(
                Paper(
                    title=f"Bookkeeping note {n}",
                    abstract="ledger entries" if n % 4 == 0 else "filler text",
                    source=Source.HF_API,
                    arxiv_id=f"2501.{n:05d}",
                )
            )
            for n in range(40)
        ]
    )
    # The same window for both: a search ranks a share of its candidates per word.
    engine = SearchEngine(service.repository, search_candidates=3 * len(typed.split()))
    results = await engine.find(typed, limit=3)
    newest = {"2501.00036", "2501.00032", "2501.00028", "2501.00024"}  # the window: 3 + its floor
    assert len(results.hits) == 3 and {hit.paper.arxiv_id for hit in results.hits} <= newest
    assert results.count_text() == expected


@pytest.mark.parametrize("probe", [1, 2, 9, 10**6])  # how many newest papers PostgreSQL walks first
# In a third of the papers; in two old ones; a phrase in the same two (PostgreSQL: the planner's walk).
@pytest.mark.parametrize("word", ['"ledger"', '"quarry"', '"filler quarry"'])
@pytest.mark.parametrize("cap", [1, 2, 6, 19, 20, 30])
async def test_the_window_is_the_same_however_far_the_first_walk_reaches(
    service: PaperService, monkeypatch: pytest.MonkeyPatch, probe: int, word: str, cap: int
) -> None:
    # PostgreSQL walks the newest papers first, then looks through the GIN bitmap as far back as
    # the walk's finds say the window reaches, else through every match; SQLite has one way.
    monkeypatch.setattr(pg_search, "WINDOW_PROBE_ROWS", probe)
    await service.ingest(
        [
            ListedPaper(
                Paper(
                    title=f"Bookkeeping note {n}",
                    abstract=("ledger" if n % 3 == 0 else "filler") + (" quarry" if n in (4, 7) else ""),
                    source=Source.HF_API,
                    arxiv_id=f"2501.{n:05d}",
                )
            )
            for n in range(60)
        ]
    )
    papers = service.repository
    window = await papers.window(word, cap, count_cap=100)
    assert window.total == (20 if word == '"ledger"' else 2)
    assert window.floor == await papers.window_floor(word, cap)


@pytest.mark.parametrize("probe", [1, 2, 9, 10**6])  # how many newest papers PostgreSQL walks first
@pytest.mark.parametrize("cap", [1, 5, 12, 100])
async def test_the_phrase_matches_of_the_window_come_first_however_the_window_is_found(
    service: PaperService, monkeypatch: pytest.MonkeyPatch, probe: int, cap: int
) -> None:
    # PostgreSQL ranks the window's rows as it finds them, by the words and by the words as one
    # phrase (migration 0037); SQLite finds the window, then ranks each tier in a statement.
    def abstract(n: int) -> str:
        together = n % 4 == 0  # "ledger quarry" side by side; else both words, apart
        words = ["ledger quarry"] if together else ["quarry and a ledger and"]
        return " ".join(words * strength(n) + ["filler"] * (LENGTH - strength(n)))

    monkeypatch.setattr(pg_search, "WINDOW_PROBE_ROWS", probe)
    await service.ingest(
        [
            ListedPaper(
                Paper(
                    title=f"Bookkeeping note {n}",
                    abstract=abstract(n),
                    source=Source.HF_API,
                    arxiv_id=f"2501.{n:05d}",
                )
            )
            for n in range(PAPERS)
        ]
    )
    engine = SearchEngine(service.repository, search_candidates=cap * 2)
    results = await engine.find("ledger quarry", limit=10)
    window = range(max(0, PAPERS - cap - 1), PAPERS)  # two words: half the candidates each
    side_by_side = {n for n in window if n % 4 == 0}
    found = [int(hit.paper.arxiv_id[-5:]) for hit in results.hits]
    assert set(found) <= set(window)
    assert [hit.phrase for hit in results.hits] == sorted((hit.phrase for hit in results.hits), reverse=True)
    assert {n for n, hit in zip(found, results.hits, strict=True) if hit.phrase} == set(
        sorted(side_by_side, key=strength, reverse=True)[:10]
    )
    assert len(found) == min(10, len(window))
    assert results.total == PAPERS
