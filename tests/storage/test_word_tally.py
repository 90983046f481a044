"""The PostgreSQL ingest's word counts (``term_docs``: papers holding each word of their title or
abstract), made by the compiled vector builder as it builds the papers' search vectors
(``paper_vectors`` with a tally), equal the counts ``batch_word_counts`` makes with SQLite, which the
SQLite ingest (and the PostgreSQL one without the compiled builder) keeps: for any paper, and for
the words the vector leaves out or the builder gives up on (past 2,046 bytes, past position 16,383,
past the vector's size). A wrong count weighs "more like this" by the wrong words."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.corpus import generate
from bench.similar import CORPUS, FALLBACK_CORPUS, corpus_papers
from bot.domain.models import Paper
from bot.storage._pg_document import Tally, vectors
from bot.storage.paper_rows import index_texts
from bot.storage.pg_search import VECTOR_BLOCK, paper_vectors, word_tally
from bot.storage.word_counts import batch_word_counts
from tests.property_budget import examples
from tests.storage.test_pg_document import ASCII_TEXT, HOSTILE_TEXT, hostile_papers
from tests.storage.test_pg_document_size import huge_paper


def sqlite_counts(papers: list[Paper]) -> dict[str, int]:
    return dict(batch_word_counts([index_texts(paper) for paper in papers]))


def tallied_counts(papers: list[Paper]) -> dict[str, int]:
    """The counts as the PostgreSQL ingest makes them: its vectors built a block ahead on the
    worker thread while the first block is built here, every vector taken."""
    tally = word_tally()
    assert tally is not None  # the compiled builder is built for the tests
    list(paper_vectors(papers, tally))
    return tally.take()


# Words past tsvector's 2,046 bytes (left out of the vector, counted all the same), and the same
# long word in title and abstract, or twice in one.
LONG_WORD = st.sampled_from(["x" * 2047, "é" * 1024, "Long" * 600, "日" * 700, "ab" * 1100])
TEXT = (
    ASCII_TEXT
    | HOSTILE_TEXT
    | st.lists(LONG_WORD | ASCII_TEXT | HOSTILE_TEXT, max_size=4).map(" ".join)
    | st.just("")
)


@settings(max_examples=examples(100), suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(TEXT, TEXT, HOSTILE_TEXT), max_size=8))
def test_the_compiled_tally_counts_what_sqlite_counts(papers: list[tuple[str, str, str]]) -> None:
    made = [Paper(title, abstract, "hf-api", authors=(authors,)) for title, abstract, authors in papers]
    assert tallied_counts(made) == sqlite_counts(made)


def test_the_words_the_vector_leaves_out_or_cannot_hold_are_counted_too() -> None:
    # Past position 16,383 and past the vector's size the builder gives the text back to Python
    # (None); words past 2,046 bytes are left out of the vector; an empty title or abstract; a
    # word past FTS5's 32,768 bytes is counted by its first 32,768, as SQLite counts it. The
    # authors' words are no word count's. Across blocks: the worker's and this thread's at once.
    papers = [item.paper for item in generate(2 * VECTOR_BLOCK + 5)]
    papers[VECTOR_BLOCK - 2 : VECTOR_BLOCK - 2] = [
        *hostile_papers(),
        huge_paper(),
        Paper("y" * 40_000 + " tail", "y" * 32_768 + "z " + "y" * 33_000, "hf-api"),
        Paper("", "", "hf-api", authors=("Only Authors",)),
    ]
    counts = tallied_counts(papers)
    assert counts == sqlite_counts(papers)
    assert counts["w7"] == 1  # past position 16,383
    assert counts["0599" + "x" * 1996] == 1  # the huge paper's last word, past the vector's size
    assert counts["x" * 3000] == 1  # past 2,046 bytes, in title and abstract: one paper
    assert counts["y" * 32_768] == 1
    assert "only" not in counts


def test_a_tally_adds_block_after_block_until_it_is_taken() -> None:
    tally = Tally()
    vectors([(["deep", "deep"], "Deep nets", "Deep Author")], tally)
    vectors([(["nets"], [], [])], tally)
    assert tally.take() == {"deep": 1, "nets": 2}
    assert tally.take() == {}


def test_a_tallied_paper_must_be_given_as_the_ingest_gives_it() -> None:
    # A text that is not ASCII is split in Python (``_document_columns``): the builder cannot count
    # it, and says so rather than miscount.
    with pytest.raises(TypeError, match="tallied"):
        vectors([(["a"], "café au lait", [])], Tally())
    with pytest.raises(TypeError, match="Tally"):
        vectors([(["a"], "x", [])], {})  # type: ignore[arg-type]


def test_every_paper_of_the_real_corpus_is_counted_as_sqlite_counts_it() -> None:
    if not any((folder / "hf_daily_papers.jsonl").exists() for folder in (CORPUS, FALLBACK_CORPUS)):
        pytest.skip("the HF Daily Papers corpus is not on this machine")
    papers = [item.paper for item in corpus_papers()]
    assert len(papers) > 10_000
    assert not all(paper.abstract.isascii() for paper in papers)  # both of the builder's splits
    assert tallied_counts(papers) == sqlite_counts(papers)
