"""What the full-text indexes are given for a paper indexes exactly its folded words.

Ingest hands ASCII text (most titles, abstracts and author lists) to SQLite as it is rather than
splitting and joining it in Python; a paper must still be found by exactly the words it was found by
when the index was given the joined folded words (``words``), and an update must still remove
exactly what the insert added (a contentless index forgets a row by being told the same tokens).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.text import search_text, words
from bot.storage.database import authors_search_text
from bot.storage.papers import ABSTRACT_INDEX_TEXT, AUTHORS_INDEX_TEXT
from tests.typed_text import FOLDED_LETTERS, typed_text

# The same tokenizer as papers_fts and titles_fts (migration 0007).
TOKENIZER = "unicode61 remove_diacritics 2"

# Mostly what papers hold (ASCII words, punctuation, JSON's own escapes), with any character mixed in.
ASCII = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=60)
ANY = st.text(st.characters(codec="utf-8"), max_size=60)
# Letters folding treats specially (ß, ligatures, dotless i, full-width digits, direction marks).
FOLDED = typed_text(FOLDED_LETTERS, max_size=60)
TEXTS = st.one_of(ASCII, ANY, FOLDED, st.lists(st.one_of(ASCII, ANY, FOLDED), max_size=4).map("".join))


@pytest.fixture(scope="module")
def index() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    connection.execute(f"CREATE VIRTUAL TABLE fts USING fts5 (text, content = '', tokenize = '{TOKENIZER}')")
    connection.execute("CREATE VIRTUAL TABLE tokens USING fts5vocab (fts, 'instance')")
    connection.create_function("paperbot_search_text", 1, search_text, deterministic=True)
    connection.create_function("paperbot_authors_text", 1, authors_search_text, deterministic=True)
    yield connection
    connection.close()


def indexed_tokens(index: sqlite3.Connection, text: str) -> list[str]:
    """The tokens, in order, that the index holds for ``text`` (then forgets them again)."""
    index.execute("INSERT INTO fts (rowid, text) VALUES (1, ?)", (text,))
    try:
        return [row[0] for row in index.execute("SELECT term FROM tokens ORDER BY offset")]
    finally:
        index.execute("INSERT INTO fts (fts, rowid, text) VALUES ('delete', 1, ?)", (text,))


@given(TEXTS)
def test_a_text_is_indexed_as_its_folded_words(index: sqlite3.Connection, text: str) -> None:
    assert indexed_tokens(index, search_text(text)) == indexed_tokens(index, " ".join(words(text)))


@given(st.lists(TEXTS, max_size=5))
def test_an_author_list_is_indexed_as_its_names_folded_words(
    index: sqlite3.Connection, names: list[str]
) -> None:
    stored = json.dumps(names, ensure_ascii=False)  # as the authors column holds them
    expected = indexed_tokens(index, " ".join(words(" ".join(names))))
    assert indexed_tokens(index, authors_search_text(stored)) == expected


@pytest.mark.parametrize(
    ("names", "found_by"),
    [
        (["Ada Lovelace", "Alan Turing"], ["ada", "lovelace", "alan", "turing"]),
        (['Ann "Nan" O\'Neil'], ["ann", "nan", "o", "neil"]),
        (["Line\nBreak"], ["line", "break"]),  # JSON writes \n: the escape's n is not a word
        (["Tab\tName\\Slash"], ["tab", "name", "slash"]),
        (["Zoë Müller", "Søren Ørsted"], ["zoe", "muller", "soren", "orsted"]),
    ],
)
def test_author_names_are_found_by_their_words_only(
    index: sqlite3.Connection, names: list[str], found_by: list[str]
) -> None:
    assert indexed_tokens(index, authors_search_text(json.dumps(names, ensure_ascii=False))) == found_by


def given_by_the_insert(index: sqlite3.Connection, abstract: str, authors: str) -> tuple[str, str]:
    """What the ingest's SQL hands the index for a stored abstract and author list."""
    sql = f"SELECT {ABSTRACT_INDEX_TEXT}, {AUTHORS_INDEX_TEXT} FROM (SELECT ? AS abstract, ? AS authors)"
    row = index.execute(sql, (abstract, authors)).fetchone()
    return row[0], row[1]


@given(TEXTS, st.lists(TEXTS, max_size=5))
def test_the_stored_columns_are_indexed_as_their_folded_words(
    index: sqlite3.Connection, abstract: str, names: list[str]
) -> None:
    """The SQL that skips Python for ASCII rows agrees with the folding, row by row."""
    authors = json.dumps(names, ensure_ascii=False)
    indexed_abstract, indexed_authors = given_by_the_insert(index, abstract, authors)
    assert indexed_tokens(index, indexed_abstract) == indexed_tokens(index, " ".join(words(abstract)))
    expected = indexed_tokens(index, " ".join(words(" ".join(names))))
    assert indexed_tokens(index, indexed_authors) == expected
