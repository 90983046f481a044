from __future__ import annotations

import pytest

from bot.errors import InvalidInput
from bot.services.papers import PaperService


async def test_federated_learning_papers_come_first(loaded_service: PaperService) -> None:
    hits = await loaded_service.search.search("federated learning", limit=10)
    assert len(hits) == 10
    assert all("federated" in h.paper.title.lower() for h in hits)
    order = [(h.phrase, h.score) for h in hits]
    assert order == sorted(order, reverse=True)


async def test_typos_still_find_the_papers(loaded_service: PaperService) -> None:
    hits = await loaded_service.search.search("federatd lerning", limit=5)
    assert hits and all("federated" in h.paper.title.lower() for h in hits)
    assert all(h.fuzzy for h in hits)


async def test_exact_phrase(loaded_service: PaperService) -> None:
    hits = await loaded_service.search.search('"global magnitude pruning"')
    assert hits[0].paper.title.endswith("A Case Study on Global Magnitude Pruning")


@pytest.mark.parametrize("odd", ['"global magnitude pruning', "AND", "pruning -lottery", "title:(x", "NEAR("])
async def test_odd_syntax_never_raises(loaded_service: PaperService, odd: str) -> None:
    await loaded_service.search.search(odd)


@pytest.mark.parametrize("nothing", ["*", '""', "-pruning", "( ) :"])
async def test_syntax_without_a_word_to_look_for_is_told_so(
    loaded_service: PaperService, nothing: str
) -> None:
    with pytest.raises(InvalidInput, match=r"only leaves words out|no words to look for"):
        await loaded_service.search.search(nothing)


async def test_snippets_come_from_the_abstract(loaded_service: PaperService) -> None:
    [hit] = await loaded_service.search.search("ride hailing dispatching", limit=1)
    assert "ride-hailing" in hit.snippet.lower()
    assert hit.snippet.endswith("…")


async def test_suggestions_are_typo_tolerant_and_bounded(loaded_service: PaperService) -> None:
    suggestions = await loaded_service.search.suggest("federatd orthog")
    assert suggestions[0].title.startswith("Federated Orthogonal Training")
    everything = await loaded_service.search.suggest("")
    assert len(everything) == 25
    assert everything[0].title.startswith("Value Function is All You Need")  # rank 1 of the latest list
    partial = await loaded_service.search.suggest("pruni")
    assert any("Pruning" in s.title for s in partial)


async def test_random_with_topic(loaded_service: PaperService) -> None:
    paper = await loaded_service.random("federated")
    assert paper is not None and "federated" in (paper.title + paper.abstract).lower()
    assert await loaded_service.random("zzzzqqq") is None
