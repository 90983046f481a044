"""The search document the PostgreSQL ingest sends (``paper_document``) names each lexeme once with
all its positions, built in C where the extension was compiled and in Python otherwise. The
server reads it into the very vector it read from the one-lexeme-a-position text sent before
(compared as ``tsvectorsend`` bytes) and that its own ``paperbot_document`` builds, for any paper:
quotes, backslashes, Han and kana, combining marks, words past tsvector's 2046 bytes, a word more
than 256 times, abstracts past position 16383 (sent as text, each capped position once with its
highest weight, as migration 0042's paperbot_document writes it). The two builders write the same
text for any columns.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.storage.held_links as held_links
import bot.storage.papers as papers_module
import bot.storage.pg_document as pg_document
import bot.storage.pg_search as pg_search
from bench.corpus import generate
from bot.domain.models import ListedPaper, Paper
from bot.domain.text import words
from bot.services.papers import PaperService
from bot.storage._pg_document import document as compiled_document
from bot.storage._pg_document import vector as compiled_vector
from bot.storage._pg_document import vectors as compiled_vectors
from bot.storage.people import PERSON_COLUMNS, PERSON_KINDS
from bot.storage.pg_document import (
    block_vectors,
    build_document,
    build_vector,
    merged_document,
    merged_vector,
    merged_vectors,
)
from bot.storage.pg_search import (
    VECTOR_BLOCK,
    _document,
    folded_columns,
    paper_document,
    paper_vector,
    paper_vectors,
)
from bot.storage.postgres import PostgresDatabase
from tests.conftest import FIXED_NOW
from tests.property_budget import examples
from tests.storage.test_ingest_equivalence import unicode_papers
from tests.storage.test_pg_ingest_equivalence import assert_search_columns_rebuild

BUILDERS = {"compiled": (compiled_document, compiled_vector), "python": (merged_document, merged_vector)}
# Text with everything a document must survive: quotes and backslashes (folded away, or kept
# literal in words given as lists), Han and kana (a word each), combining marks, ligatures,
# full-width letters, upper case.
HOSTILE = st.sampled_from(list("ab'\\\"Zé ﬁ Ｆ 日本語 かな e\u0301 ß İ 1 \t")) | st.characters(codec="utf-8")
HOSTILE_TEXT = st.text(HOSTILE, max_size=60)
ASCII_TEXT = st.text(st.characters(max_codepoint=127), max_size=80)
ANY_WORDS = st.lists(st.text(HOSTILE, max_size=6), max_size=12)


def hostile_papers() -> list[Paper]:
    long_word = "x" * 3000  # past tsvector's 2046 bytes: left out, its position counted
    edge = "é" * 1023  # 2046 bytes: kept, while '^' + it (2047 bytes) is left out
    return [
        Paper("A 'quoted' title\\ with back\\slashes", "It's a \"test\" of \\ and '.", "hf-api",
              authors=('Ann "Nan" O\'Neil', "Tab\tName\\Slash")),
        Paper("日本語のタイトル 研究", "中文摘要 with mixed かな text", "hf-api", authors=("山田 太郎",)),
        Paper("Cafe\u0301 combining marks", "Nai\u0308ve re\u0301sume\u0301 ﬁne ＦＵＬＬ", "hf-api"),
        Paper(f"{long_word} first word too long", f"text {long_word} end", "hf-api", authors=(long_word,)),
        Paper(f"{edge} edge", "short", "hf-api"),
        Paper("Repeated", " ".join(["again"] * 700), "hf-api"),  # one lexeme, 700 positions: 256 kept
        Paper("Past the cap", " ".join(f"w{n % 500}" for n in range(20_000)), "hf-api", authors=("Ann Lee",)),
        Paper("", "no title at all", "hf-api"),
        Paper("!!!", "", "hf-api"),
    ]  # fmt: skip


def every_position_document(paper: Paper) -> str:
    """The document as the ingest sent it before: every position its own lexeme."""
    title = paper.title_key.split() if paper.title.isascii() else words(paper.title)
    return _document([title, words(paper.abstract), words(" ".join(paper.authors))], plain=True)


async def vectors_agree(url: str, papers: list[Paper]) -> list[int]:
    """The indexes of the papers whose sent document the server reads into another vector than
    the old text's, or than ``paperbot_document`` of the stored columns, or whose binary vector
    (where one is made) is not the server's own ``tsvectorsend`` of that vector."""
    columns = [folded_columns(paper) for paper in papers]
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT d.n, tsvectorsend(d.sent::tsvector) = tsvectorsend(d.old::tsvector) AS same, "
            "tsvectorsend(d.sent::tsvector) = "
            "tsvectorsend(paperbot_document(d.title, d.abstract, d.authors)) AS built, "
            "coalesce(d.sent_binary = tsvectorsend(d.old::tsvector), true) AS binary "
            "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[]) "
            "WITH ORDINALITY AS d(sent, old, title, abstract, authors, sent_binary, n) ORDER BY d.n",
            [paper_document(paper) for paper in papers],
            [every_position_document(paper) for paper in papers],
            [c[0] for c in columns],
            [c[1] for c in columns],
            [c[2] for c in columns],
            [paper_vector(paper) for paper in papers],
        )
    finally:
        await connection.close()
    return [int(row["n"]) - 1 for row in rows if not (row["same"] and row["built"] and row["binary"])]


def test_the_ingest_builds_the_document_in_c() -> None:
    # `make` compiled it: the ingest's speed depends on it.
    assert (build_document, build_vector) == (compiled_document, compiled_vector)


@pytest.mark.parametrize("builder", BUILDERS)
async def test_the_server_reads_the_merged_document_into_the_same_vector(
    postgres_url: str, builder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg_search, "build_document", BUILDERS[builder][0])
    monkeypatch.setattr(pg_search, "build_vector", BUILDERS[builder][1])
    papers = hostile_papers() + [item.paper for item in [*unicode_papers(), *generate(300)]]
    assert await vectors_agree(postgres_url, papers) == []
    # One lexeme a word; the abstract past position 16383 too (migration 0042's document: each
    # capped position once, with its highest weight), as text the server reads.
    sent = paper_document(papers[5])
    assert sent.count("'again':") == 1 and sent.count(",") == 255
    assert paper_document(papers[6]).count("'w1':") == 1
    assert paper_vector(papers[6]) is None  # the ingest has the server read its text instead


@pytest.mark.hypothesis  # its property runs inside: `make stress` selects it by this mark
async def test_any_paper_is_read_into_the_same_vector(postgres_url: str) -> None:
    @settings(max_examples=examples(40), suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.tuples(HOSTILE_TEXT, HOSTILE_TEXT, st.lists(HOSTILE_TEXT, max_size=4)), min_size=1))
    def check(drawn: list[tuple[str, str, list[str]]]) -> None:
        papers = [Paper(title, abstract, "hf-api", authors=tuple(names)) for title, abstract, names in drawn]
        assert asyncio.run(vectors_agree(postgres_url, papers)) == []

    await asyncio.to_thread(check)


@settings(max_examples=examples(300))
@given(
    ANY_WORDS,
    ANY_WORDS | ASCII_TEXT,
    ANY_WORDS | ASCII_TEXT | HOSTILE_TEXT,
)
def test_the_compiled_and_python_builders_write_the_same_text(
    title: list[str], abstract: list[str] | str, authors: list[str] | str
) -> None:
    assert compiled_document(title, abstract, authors) == merged_document(title, abstract, authors)
    assert compiled_vector(title, abstract, authors) == merged_vector(title, abstract, authors)


ANY_COLUMNS = st.tuples(ANY_WORDS, ANY_WORDS | ASCII_TEXT, ANY_WORDS | ASCII_TEXT | HOSTILE_TEXT)


@settings(max_examples=examples(100))
@given(st.lists(ANY_COLUMNS, max_size=6))
def test_a_block_of_papers_built_without_the_gil_gets_each_papers_own_vector(
    papers: list[tuple[list[str], list[str] | str, list[str] | str]],
) -> None:
    assert compiled_vectors(papers) == merged_vectors(papers) == [compiled_vector(*paper) for paper in papers]


def test_a_block_with_a_column_of_the_wrong_type_is_refused_as_one_paper_is() -> None:
    with pytest.raises(TypeError):
        compiled_vectors([(["a"], "x", []), (["a"], 3, [])])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        compiled_vectors([(["a"], "x", [b"bytes"])])  # type: ignore[list-item]


def test_the_ingest_builds_the_vectors_a_block_ahead_each_as_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    # More than two blocks, the hostile papers (None past the cap, words left out) among them.
    papers = [item.paper for item in generate(2 * VECTOR_BLOCK + 5)]
    papers[VECTOR_BLOCK + 1 : VECTOR_BLOCK + 1] = hostile_papers()
    expected = [merged_vector(*pg_search._document_columns(paper)) for paper in papers]
    assert block_vectors is compiled_vectors
    assert list(paper_vectors(papers)) == expected
    assert list(paper_vectors([])) == []
    # Where the builder is not compiled, each vector is built in Python as it is asked for.
    monkeypatch.setattr(pg_document, "block_vectors", None)
    monkeypatch.setattr(pg_search, "build_vector", merged_vector)
    assert list(paper_vectors(papers)) == expected


def test_both_builders_leave_what_they_cannot_merge_to_the_old_form() -> None:
    past_cap = " ".join(["word"] * 16_400)
    for builder in (compiled_document, merged_document, compiled_vector, merged_vector):
        assert builder(["a"], past_cap, []) is None
        assert builder(["a"], words(past_cap), []) is None
        assert builder(["it's"], [], []) is None
        assert builder(["a", ""], [], []) is None
        assert builder(["a"], "", "Zoë") is None  # a text given must be ASCII
        assert builder(["a", "b\0"], [], []) is None
    for document in (compiled_document, merged_document):
        assert document(["a"], "x", ["y"]) == "'^a':1A 'a':1A 'x':3B 'y':5C"
        assert document([], "", []) == ""
    for vector in (compiled_vector, merged_vector):
        assert vector([], "", []) == bytes(4)
        # 2 lexemes: 'x' at 2B (0b10 << 14 | 2); 'y' at 3B and 5C (0b01 << 14 | 5)
        assert vector([], "x y", ["y"]) == (
            b"\0\0\0\x02" + b"x\0\0\x01\x80\x02" + b"y\0\0\x02\x80\x03\x40\x05"
        )


BINARY_COPIES = {
    "papers": (("pk", *papers_module._FIELDS, "created_at", "search"), papers_module._COPY_KINDS),
    "paper_people": (PERSON_COLUMNS, PERSON_KINDS),
    "listings": (held_links.LISTING_COLUMNS, held_links.LISTING_KINDS),
    "paper_signals": (held_links.SIGNAL_COLUMNS, held_links.SIGNAL_KINDS),
    "people_names": (held_links.NAME_COLUMNS, held_links.NAME_KINDS),
}


@pytest.mark.parametrize("table", list(BINARY_COPIES))
async def test_each_binary_copy_sends_each_column_as_its_type(postgres_url: str, table: str) -> None:
    """COPY's binary format takes each field as its column's type reads it: a bigint sent in four
    bytes would be refused (or, the other way round, misread)."""
    connection = await asyncpg.connect(postgres_url)
    try:
        types = dict(
            await connection.fetch(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1", table
            )
        )
    finally:
        await connection.close()
    kinds = {"bigint": "int8", "integer": "int4", "text": "text", "tsvector": "raw"}
    columns, sent = BINARY_COPIES[table]
    assert [kinds[types[name]] for name in columns] == list(sent)


async def test_the_ingest_stores_each_vector_as_the_server_builds_it(postgres_url: str) -> None:
    """Through the ingest's binary COPY, and for the paper past position 16383 (left out of the
    stream and inserted with its document's text after it)."""
    store = await PostgresDatabase.open(postgres_url)
    service = PaperService(store, clock=lambda: FIXED_NOW)
    await service.start()
    try:
        day = date(2026, 2, 3)
        hostile = [
            ListedPaper(replace(paper, arxiv_id=f"2602.{80000 + n}"), day, n + 1)
            for n, paper in enumerate(hostile_papers())
        ]
        counts = await service.ingest([*hostile, *generate(50), *unicode_papers()])
        assert counts.new == len(hostile) + 50 + len(unicode_papers())
        await assert_search_columns_rebuild(store)
        capped = await store.connection.fetch_all(
            "SELECT tsvectorsend(search) = tsvectorsend(?::text::tsvector) FROM papers WHERE arxiv_id = ?",
            (every_position_document(hostile_papers()[6]), "2602.80006"),
        )
        assert [tuple(row) for row in capped] == [(True,)]
    finally:
        await store.close()
