"""What a reader types beyond words is obeyed or refused, never silently ignored, and answered
alike on SQLite and PostgreSQL: ``-word`` leaves papers out, ``title:``/``abstract:``/``author:``
pick a field (``title:foo`` is not "spelling corrected to 'tailed foo'"), and text with nothing to
look for (punctuation, only exclusions) is told so rather than answered with unrelated papers."""

from __future__ import annotations

import pytest

from bot.domain.models import ListedPaper, Paper, Source
from bot.errors import InvalidInput
from bot.services.papers import PaperService

PAPERS = [
    ("Diffusion Models for Video", "We generate video with diffusion.", ("Grace Hopper",)),
    ("Diffusion Models for Audio", "We generate audio with diffusion.", ("Alan Turing",)),
    ("Pruning Large Networks", "Magnitude pruning of video and audio networks.", ("Ada Lovelace",)),
]


@pytest.fixture
async def papers(service: PaperService) -> PaperService:
    await service.ingest(
        [
            ListedPaper(
                Paper(title=t, abstract=a, authors=au, source=Source.HF_API, arxiv_id=f"2501.0000{n}")
            )
            for n, (t, a, au) in enumerate(PAPERS)
        ]
    )
    return service


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("diffusion -video", ["Diffusion Models for Audio"]),
        ('diffusion -"for video"', ["Diffusion Models for Audio"]),
        ("video -title:video", ["Pruning Large Networks"]),
        ("title:video", ["Diffusion Models for Video"]),
        ("abstract:magnitude", ["Pruning Large Networks"]),
        ("author:lovelace", ["Pruning Large Networks"]),
        ("authors:hopper diffusion", ["Diffusion Models for Video"]),
        ('title:"models for audio"', ["Diffusion Models for Audio"]),
        ("audio -author:turing", ["Pruning Large Networks"]),
        # Misspelt words are still corrected; the exclusion holds in the corrected pass too.
        ("difusion -video", ["Diffusion Models for Audio"]),
        # Some words only (no paper has both): the exclusion still holds.
        ("audio lottery -pruning", ["Diffusion Models for Audio"]),
    ],
)
async def test_exclusions_and_fields_are_obeyed(papers: PaperService, query: str, titles: list[str]) -> None:
    assert sorted(h.paper.title for h in await papers.search.search(query)) == titles


async def test_a_field_name_is_never_spelling_corrected(papers: PaperService) -> None:
    results = await papers.search.find("title:foo")
    assert results.hits == [] and results.correction is None
    corrected = await papers.search.find("difusion -video")
    assert corrected.correction == "diffusion -video"


@pytest.mark.parametrize(
    ("query", "told"),
    [
        ("-diffusion", "only leaves words out"),
        ("(((", "no words to look for"),
        ("- : *", "no words to look for"),
    ],
)
async def test_nothing_to_look_for_is_told_so(papers: PaperService, query: str, told: str) -> None:
    with pytest.raises(InvalidInput, match=told):
        await papers.search.find(query)
