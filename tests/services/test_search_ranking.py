"""What a reader notices in the order of search results: the words typed side by side find the papers
that use them as one phrase first, also after a spelling correction, and a title counts no more
than the abstract it summarises (what measured best on real papers: bench search-quality)."""

from __future__ import annotations

import pytest

from bot.domain.models import ListedPaper, Paper, Source
from bot.services.papers import PaperService

FILLER = "We report experiments on several benchmarks and release everything we built. " * 2


def _paper(n: int, title: str, abstract: str) -> ListedPaper:
    return ListedPaper(
        Paper(title=title, abstract=abstract + " " + FILLER, source=Source.HF_API, arxiv_id=f"2501.{n:05d}")
    )


@pytest.fixture
async def ranked(service: PaperService) -> PaperService:
    await service.ingest(
        [
            # Both words in the title, many times in the abstract, never side by side.
            _paper(
                1,
                "Models of Diffusion: Which Models Explain Diffusion",
                "Models explain how diffusion spreads; models differ in diffusion.",
            ),
            _paper(2, "Sound Generation at Scale", "We train diffusion models to generate sound."),
            _paper(3, "Reward Shaping for Agents", "Reward signals guide the model of each agent."),
            _paper(
                4,
                "Learning a Reward Model from Preferences",
                "A reward model learnt from pairwise preferences.",
            ),
        ]
    )
    return service


async def test_the_paper_using_the_words_as_a_phrase_comes_first(ranked: PaperService) -> None:
    hits = await ranked.search.search("diffusion models")
    assert [h.paper.title for h in hits] == [
        "Sound Generation at Scale",
        "Models of Diffusion: Which Models Explain Diffusion",
    ]
    assert [h.phrase for h in hits] == [True, False]


async def test_a_phrase_in_the_title_comes_first_too(ranked: PaperService) -> None:
    hits = await ranked.search.search("reward model")
    assert hits[0].paper.title == "Learning a Reward Model from Preferences"


async def test_a_corrected_query_keeps_the_phrase_first(ranked: PaperService) -> None:
    results = await ranked.search.find("difusion models")
    assert results.correction == "diffusion models"
    assert results.hits[0].paper.title == "Sound Generation at Scale"


async def test_words_typed_in_another_order_are_no_phrase(ranked: PaperService) -> None:
    hits = await ranked.search.search("models diffusion")
    assert not any(h.phrase for h in hits)
    assert len(hits) == 2


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("iffusion models", "diffusion models"),  # the first letter dropped
        ("idffusion models", "diffusion models"),  # the first two letters swapped
        ("sdiffusion models", "diffusion models"),  # a letter slipped in before the first
    ],
)
async def test_a_slip_on_the_first_letters_is_corrected_too(
    ranked: PaperService, typed: str, meant: str
) -> None:
    results = await ranked.search.find(typed)
    assert results.correction == meant
    assert results.hits[0].paper.title == "Sound Generation at Scale"
