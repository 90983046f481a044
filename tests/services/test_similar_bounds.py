""" "More like this" stays cheap without going stale: it ranks only the newest papers of a large
store, and what it remembers about a paper (its distinctive terms) is forgotten when the paper's
text changes or the store grows."""

from __future__ import annotations

from bot.domain.models import ListedPaper, Paper, Source
from bot.services.papers import PaperService
from bot.services.similar import SimilarPapers
from bot.storage.database import Database
from bot.storage.repositories import Repositories

FILLER = "We report experiments on several benchmarks and release everything we built."


def _paper(n: int, title: str, abstract: str) -> ListedPaper:
    return ListedPaper(
        Paper(title=title, abstract=f"{abstract} {FILLER}", source=Source.HF_API, arxiv_id=f"2501.{n:05d}")
    )


# Papers on nothing in common, so the topic words are rare enough to be distinctive (a word in more
# than a tenth of the store says little).
UNRELATED = [_paper(900 + n, f"Unrelated {n}", f"Topic q{n}x about subject w{n}y only") for n in range(40)]
TOPIC = "Sparse magnitude pruning of convolutional filters with lottery tickets"
OTHER = "Speech recognition for tonal languages with phoneme lattices"


async def test_only_the_newest_papers_of_the_window_are_offered(
    service: PaperService, database: Database
) -> None:
    papers = [
        *UNRELATED,
        _paper(1, "Oldest Pruning Study", TOPIC),
        *(_paper(n, f"Speech Study {n}", OTHER) for n in range(2, 6)),
        _paper(6, "Newer Pruning Study", TOPIC),
        _paper(7, "Source Pruning Study", TOPIC),
    ]
    await service.ingest(papers)
    repos = Repositories.of(database)
    stored = await repos.papers.get("2501.00007")
    assert stored is not None
    everything = SimilarPapers(repos.papers, repos.terms)
    newest = SimilarPapers(repos.papers, repos.terms, window=3)
    assert {h.paper.title for h in await everything.similar(stored.paper, limit=2)} == {
        "Newer Pruning Study",
        "Oldest Pruning Study",
    }
    assert [h.paper.title for h in await newest.similar(stored.paper, limit=2)] == ["Newer Pruning Study"]


async def test_a_paper_whose_abstract_changed_is_matched_by_its_new_words(
    service: PaperService, database: Database
) -> None:
    await service.ingest(
        [
            *UNRELATED,
            _paper(1, "Pruning Study", TOPIC),
            _paper(2, "Speech Study", OTHER),
            _paper(3, "The Paper Under Revision", TOPIC),
            _paper(4, "Unrelated Chemistry", "Catalysts for ammonia synthesis at low temperature"),
        ],
    )
    repos = Repositories.of(database)
    similar = SimilarPapers(repos.papers, repos.terms)
    before = await repos.papers.get("2501.00003")
    assert before is not None
    assert [h.paper.title for h in await similar.similar(before.paper, limit=1)] == ["Pruning Study"]
    revised = ListedPaper(
        Paper(
            title="The Paper Under Revision",
            abstract=f"{OTHER} {FILLER}",
            source=Source.HF_API,
            arxiv_id="2501.00003",
        )
    )
    await service.ingest([revised])
    after = await repos.papers.get("2501.00003")
    assert after is not None and after.paper.abstract.startswith("Speech")
    assert [h.paper.title for h in await similar.similar(after.paper, limit=1)] == ["Speech Study"]
