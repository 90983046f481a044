"""What a reader notices when a query matches more papers than a search ranks: the best of the
newest matches come back, the count still says how many match ("10 of 30"), and each backend
ranks a window sized for what a candidate costs it (PostgreSQL: a quarter of SQLite's)."""

from __future__ import annotations

import pytest

from bot.domain.models import ListedPaper, Paper, Source
from bot.services import search
from bot.services.papers import PaperService
from bot.services.search import (
    POSTGRES_SEARCH_CANDIDATES,
    POSTGRES_SUGGESTION_CANDIDATES,
    SEARCH_CANDIDATES,
    SUGGESTION_CANDIDATES,
    SearchEngine,
)

MATCHING = 30
WINDOW = 10


def _paper(n: int, title: str, abstract: str) -> ListedPaper:
    return ListedPaper(Paper(title=title, abstract=abstract, source=Source.HF_API, arxiv_id=f"2502.{n:05d}"))


@pytest.fixture
async def sparse_papers(service: PaperService) -> PaperService:
    # Stored oldest first: the oldest is by far the best match (the word in its title, three times).
    oldest = _paper(0, "Sparse Sparse Sparse Attention", "A sparse method, sparse through and through.")
    newer = [_paper(n, f"Study number {n}", "We touch on sparse models once.") for n in range(1, MATCHING)]
    await service.ingest([oldest])
    await service.ingest(newer)
    return service


async def test_a_narrow_query_ranks_every_match(sparse_papers: PaperService) -> None:
    found = await sparse_papers.search.find("sparse")
    assert found.hits[0].paper.title == "Sparse Sparse Sparse Attention"
    assert found.count_text() == f"10 of {MATCHING}"


async def test_a_broad_query_ranks_its_newest_matches_and_still_counts_them_all(
    sparse_papers: PaperService,
) -> None:
    search = SearchEngine(sparse_papers.repository, search_candidates=WINDOW)
    found = await search.find("sparse", limit=MATCHING)
    # Only the newest matches are ranked: the oldest paper is past the window.
    assert "Sparse Sparse Sparse Attention" not in {hit.paper.title for hit in found.hits}
    assert len(found.hits) == WINDOW + 1
    assert found.total == MATCHING


async def test_the_count_stops_at_its_cap(sparse_papers: PaperService) -> None:
    assert await sparse_papers.repository.count_matches('"sparse"', cap=7) == 7
    assert await sparse_papers.repository.count_matches('"sparse"', cap=100) == MATCHING
    assert await sparse_papers.repository.count_matches('"sparse" AND "attention"', cap=100) == 1


async def test_postgresql_ranks_a_quarter_of_sqlites_window(service: PaperService) -> None:
    if service.database.dialect.postgres:
        assert service.search.windows == (POSTGRES_SEARCH_CANDIDATES, POSTGRES_SUGGESTION_CANDIDATES)
        assert POSTGRES_SEARCH_CANDIDATES * 4 == SEARCH_CANDIDATES
    else:
        assert service.search.windows == (SEARCH_CANDIDATES, SUGGESTION_CANDIDATES)


@pytest.mark.parametrize(
    ("in_the_text", "by_name", "expected"),
    [
        (3, 0, "2 of 3"),
        (3, 1, "2 of 4"),
        (3, 4, "2 of 5+"),  # the word counts say 3: the authors' names make up the rest
        (6, 0, "2 of 5+"),  # the word counts alone say the cap is reached
    ],
)
async def test_the_count_holds_papers_that_have_the_word_only_in_an_author_name(
    service: PaperService, monkeypatch: pytest.MonkeyPatch, in_the_text: int, by_name: int, expected: str
) -> None:
    # PostgreSQL takes "5+" from the ingest's word counts (title and abstract) when they reach the
    # cap, and counts the matches otherwise: a search also finds the word in author names.
    monkeypatch.setattr(search, "COUNT_CAP", 5)
    texts = [_paper(n, f"Study {n}", "A ledger of results.") for n in range(in_the_text)]
    named = [
        ListedPaper(
            Paper(
                title=f"Survey {n}",
                abstract="Plain results.",
                authors=("Ada Ledger",),
                source=Source.HF_API,
                arxiv_id=f"2503.{n:05d}",
            )
        )
        for n in range(by_name)
    ]
    fillers = [_paper(100 + n, f"Other {n}", "Nothing to see.") for n in range(10)]
    await service.ingest(named + texts + fillers)
    found = await SearchEngine(service.repository, search_candidates=1).find("ledger", limit=2)
    assert found.count_text() == expected


@pytest.mark.parametrize(("in_the_text", "expected"), [(3, "2 of 4"), (6, "2 of 5+")])
async def test_a_search_for_any_of_its_words_counts_the_papers_holding_any(
    service: PaperService, monkeypatch: pytest.MonkeyPatch, in_the_text: int, expected: str
) -> None:
    # No paper holds both words, so the search falls back to any of them: PostgreSQL may take
    # "5+" from the word counts of the commonest word, and counts the matches otherwise.
    monkeypatch.setattr(search, "COUNT_CAP", 5)
    ledgers = [_paper(n, f"Study {n}", "A ledger of results.") for n in range(in_the_text)]
    quarry = [_paper(50, "Survey", "A quarry of stones.")]
    fillers = [_paper(100 + n, f"Other {n}", "Nothing to see.") for n in range(10)]
    await service.ingest(quarry + ledgers + fillers)
    found = await SearchEngine(service.repository, search_candidates=2).find("ledger quarry", limit=2)
    assert found.some_words
    assert found.count_text() == expected
