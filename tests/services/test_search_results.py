"""Search results come from one pass (best first, comparable scores), say how many papers match,
and say when spelling was corrected; title autocomplete puts titles starting with the word first."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.models import ListedPaper, Paper, Source
from bot.domain.query import parse_search, to_fts
from bot.domain.text import words
from bot.parsing.hf_api import parse_hf_api
from bot.services.papers import PaperService
from bot.services.search import SearchEngine
from bot.storage.papers import PLAIN_BM25

FIXTURES = Path(__file__).parent.parent / "fixtures"
QUERIES = [
    "learning", "federated learning", "federatd lerning", "pruning quantum", "global magnitude pruning",
    "value function ride", "zzzz learning", "diffusion models", "reinforcement lerning agents",
]  # fmt: skip


def matching(service_papers: list[Paper], query_words: list[str], every: bool) -> int:
    found = 0
    for paper in service_papers:
        held = set(words(f"{paper.title} {paper.abstract} {' '.join(paper.authors)}"))
        hits = [w in held for w in query_words]
        found += all(hits) if every else any(hits)
    return found


@pytest.mark.parametrize("query", QUERIES)
async def test_results_are_best_first_from_one_pass_with_the_true_total(
    loaded_service: PaperService, sample_papers: list[ListedPaper], query: str
) -> None:
    results = await loaded_service.search.find(query, limit=10)
    order = [
        (hit.phrase, hit.score) for hit in results.hits
    ]  # the phrase's papers first, each group best first
    assert order == sorted(order, reverse=True)
    assert len({hit.fuzzy for hit in results.hits}) <= 1
    assert all(hit.fuzzy == (results.correction is not None) for hit in results.hits)
    searched = (results.correction or query).split()
    expected = matching(
        [p.paper for p in sample_papers], [w for s in searched for w in words(s)], not results.some_words
    )
    if results.hits:
        assert results.total == expected


async def test_a_corrected_search_is_marked_fuzzy_and_names_the_correction(
    loaded_service: PaperService,
) -> None:
    results = await loaded_service.search.find("federatd lerning")
    assert results.correction == "federated learning"
    assert results.hits and all(hit.fuzzy for hit in results.hits)
    assert results.count_text().endswith(str(results.total))


async def test_a_corrected_search_names_its_phrases_and_filters_as_they_ran(
    loaded_service: PaperService,
) -> None:
    results = await loaded_service.search.find('lerning "federated learning" -zzzz')
    # The note heads hits that hold the phrase: unquoted it would name the looser search.
    assert results.correction == 'learning "federated learning" -zzzz'
    assert results.hits and all(hit.fuzzy for hit in results.hits)


async def test_the_count_says_how_many_match_beyond_the_page(loaded_service: PaperService) -> None:
    results = await loaded_service.search.find("learning", limit=10)
    assert len(results.hits) == 10 and results.total > 10
    assert results.count_text() == f"10 of {results.total}"


async def test_a_title_starting_with_the_typed_word_comes_first(service: PaperService) -> None:
    listed = parse_hf_api((FIXTURES / "hf_daily_2024-07-31.json").read_bytes())
    crowd = [
        ListedPaper(
            Paper(
                title=f"Thinking Reward Model Number {n}"
                if n
                else "SophiaVL-R1: Reinforcing MLLMs Reasoning with Thinking Reward",
                abstract="Abstract about thinking and rewards. " * 5,
                source=Source.HF_API,
                arxiv_id=f"2505.{n:05d}",
            )
        )
        for n in range(150)  # newer than ThinK and many: they must not crowd it out
    ]
    await service.ingest([*listed, *crowd])
    for typed in ("ThinK", "think", "ThinK thinner", "think: thinner key", "think thinner k"):
        suggestions = await service.search.suggest(typed)
        assert suggestions[0].title.startswith("ThinK: Thinner Key Cache"), typed


@pytest.mark.parametrize("query", ["learning", "federated learning", "model", "zzzz"])
async def test_one_walk_gives_the_window_and_the_count_that_two_walks_gave(
    loaded_service: PaperService, query: str
) -> None:
    """The window's start and the reported total come from as few walks as can be; for every window
    size and count cap around the number of matches they are what the separate floor and count
    statements say."""
    papers = loaded_service.repository
    fts = to_fts(parse_search(query))
    matches = await papers.count_matches(fts, cap=1_000)
    for cap in sorted({1, max(1, matches // 2), max(1, matches - 1), max(1, matches), matches + 1, 500}):
        floor = await papers.window_floor(fts, cap)
        for count_cap in sorted({1, cap, cap + 1, cap + 2, matches, matches + 1, 1_000}):
            window = await papers.window(fts, cap, count_cap=count_cap)
            assert window.floor == floor
            assert window.total == await papers.count_matches(fts, cap=count_cap)
            if window.pks is not None:  # the matches it walked past are the window's, from the floor up
                newest = [
                    hit.pk for hit in await papers.match(fts, weights=PLAIN_BM25, limit=2_000, min_pk=floor)
                ]
                assert list(window.pks) == sorted(newest)


async def test_a_window_smaller_than_the_matches_still_reports_the_true_total(
    loaded_service: PaperService, sample_papers: list[ListedPaper]
) -> None:
    narrow = SearchEngine(loaded_service.repository, search_candidates=3)
    results = await narrow.find("learning", limit=2)
    assert results.total == matching([p.paper for p in sample_papers], ["learning"], every=True) > 3
    assert results.count_text() == f"2 of {results.total}"
