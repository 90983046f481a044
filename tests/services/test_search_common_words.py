"""A search leaves the words at least half the papers hold out of its BM25 scoring (FTS5 gives them
an IDF of 1e-6, and learning that walks their whole doclist) while every result must still hold
them: whatever the papers and the words asked, the same papers come back in the same order but for
ties closer than 2.2e-6 a left-out word, and the count is the same. After an ingest the words are
judged afresh (a word can become common)."""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.models import ListedPaper, Paper, Source
from bot.domain.query import searchable, to_fts
from bot.services.papers import PaperService
from bot.services.search import SEARCH_WEIGHTS, SearchEngine
from bot.storage.database import Database
from tests.property_budget import examples

WORDS = ["model", "data", "sparse", "graph", "agent", "token"]
# A paper's abstract: some of the words, each said one to four times, among filler of its own length.
ABSTRACT = st.lists(st.tuples(st.sampled_from(WORDS), st.integers(1, 4)), min_size=1, max_size=5)
PAPERS = st.lists(st.tuples(ABSTRACT, st.integers(0, 12)), min_size=1, max_size=8)
# BM25 gives a word held by half the index's rows or more 1e-6 as IDF; k1 + 1 = 2.2 bounds the rest.
MOST_A_LEFT_OUT_WORD_ADDS = 2.2e-6


def paper(number: int, said: list[tuple[str, int]], filler: int) -> ListedPaper:
    abstract = " ".join([word for word, times in said for _ in range(times)] + ["filler"] * filler)
    note = Paper(
        title=f"Note {number}", abstract=abstract, source=Source.HF_API, arxiv_id=f"2501.{number:05d}"
    )
    return ListedPaper(note)


async def search_agrees_with_scoring_every_word(
    batches: list[list[tuple[list[tuple[str, int]], int]]], asked: list[list[str]], per_word: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = await Database.open(Path(folder) / "store.db")
        try:
            service = PaperService(database)
            await service.start()
            papers = service.repository
            # The newest ``per_word`` matches a word are ranked: 10**6 takes the path that counts
            # from the newest end (the window's matches are walked again as the filter).
            engine_windowed = SearchEngine(papers, search_candidates=per_word, phrase_first=False)
            await engine_windowed.refresh()
            held: Counter[str] = Counter()
            stored = 0
            for batch, words in zip(batches, asked, strict=True):
                await service.ingest(
                    [paper(stored + n, said, filler) for n, (said, filler) in enumerate(batch)]
                )
                await engine_windowed.learn({})  # as the bot's refresh does after any ingest
                stored += len(batch)
                held.update(word for said, _ in batch for word in {word for word, _ in said})
                common = {word for word in words if 2 * held[word] >= stored}
                # The ingest's word counts are exact: no common word is missed.
                assert await papers.half_held(words) == common
                query = searchable(" ".join(words))
                fts = to_fts(query)
                results = await engine_windowed.find(" ".join(words), limit=5)
                window = await papers.window(fts, per_word // len(words), count_cap=10_000)
                every = await papers.match(fts, weights=SEARCH_WEIGHTS, limit=1_000, min_pk=window.floor)
                if not every:  # no paper holds every word: a pass that scores them all answers
                    continue
                assert results.total == window.total
                assert not results.some_words
                slack = MOST_A_LEFT_OUT_WORD_ADDS * len(common) + 1e-9
                assert len(results.hits) == min(5, len(every))
                for hit, best in zip(results.hits, every, strict=False):
                    assert set(words) <= set(hit.paper.abstract.split())
                    assert 0 <= best.score - hit.score <= slack
        finally:
            await database.close()


@settings(max_examples=examples(40), deadline=None)
@given(
    st.lists(PAPERS, min_size=1, max_size=3),
    st.data(),
    st.sampled_from([1, 2, 5, 10**6]),
)
def test_leaving_common_words_out_of_the_score_keeps_the_answer_up_to_ties(
    batches: list[list[tuple[list[tuple[str, int]], int]]], data: st.DataObject, per_word: int
) -> None:
    asked = [
        data.draw(st.lists(st.sampled_from(WORDS), min_size=2, max_size=4, unique=True)) for _ in batches
    ]
    asyncio.run(search_agrees_with_scoring_every_word(batches, asked, per_word))


async def test_a_common_word_still_leaves_out_the_papers_without_it(service: PaperService) -> None:
    """ "model" is in four of the seven papers: it no longer moves a score, yet a paper without it is
    no answer to "sparse model", however often it says "sparse"."""
    await service.ingest(
        [
            paper(0, [("model", 1), ("sparse", 1)], 5),
            paper(1, [("model", 2), ("sparse", 3)], 2),
            paper(2, [("sparse", 4)], 3),
            paper(3, [("model", 1)], 6),
            paper(4, [("model", 1)], 2),
            paper(5, [("graph", 1)], 2),
            paper(6, [("graph", 1)], 2),
        ]
    )
    common = set() if service.database.dialect.postgres else {"model"}  # PostgreSQL ranks without IDF
    assert await service.repository.half_held(["model", "sparse"]) == common
    results = await service.search.find("sparse model")
    assert [hit.paper.arxiv_id for hit in results.hits] == ["2501.00001", "2501.00000"]
    assert results.total == 2


async def test_a_word_only_older_papers_hold_is_still_known_as_common(service: PaperService) -> None:
    """Half the papers say "model", but none of the newest thousand: it is still left out of the
    score (the ingest's word counts say how many papers hold it, not a sample of the newest), and
    still asked of every answer."""
    await service.ingest(
        [paper(n, [("model", 1), ("graph", n % 100 == 0)], 2) for n in range(1100)]
        + [paper(1100 + n, [("data", 1)], 2) for n in range(1100)]
    )
    common = set() if service.database.dialect.postgres else {"model"}  # PostgreSQL ranks without IDF
    assert await service.repository.half_held(["model", "graph"]) == common
    results = await service.search.find("graph model")
    assert results.total == 11
    assert all("model" in hit.paper.abstract.split() for hit in results.hits)
