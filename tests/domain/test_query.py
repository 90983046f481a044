from __future__ import annotations

import sqlite3

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from bot.domain.query import (
    MAX_QUERY_CHARS,
    MAX_TERMS,
    Mode,
    alternatives_to_fts,
    as_one_phrase,
    parse_search,
    searchable,
    to_fts,
)
from bot.domain.text import search_text, strip_invisible, words
from bot.domain.tsquery import to_tsquery
from bot.errors import InvalidInput
from tests.property_budget import examples
from tests.typed_text import typed_text


@pytest.fixture(scope="module")
def fts() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        # The columns of papers_fts: a search may name any of them (title:, abstract:, author:).
        "CREATE VIRTUAL TABLE t USING fts5("
        "title, abstract, authors, tokenize='unicode61 remove_diacritics 2')"
    )
    conn.execute(
        "INSERT INTO t VALUES ('Global magnitude pruning', 'We prune AND grow (sometimes) *all* weights', '')"
    )
    return conn


def test_words_and_phrases() -> None:
    query = parse_search('diffusion "reward model" video')
    assert query.terms == ("diffusion", "video")
    assert query.phrases == (("reward", "model"),)
    assert to_fts(query) == '"diffusion" AND "video" AND "reward model"'


def test_operators_are_plain_words() -> None:
    query = parse_search("pruning AND lottery OR venue:foo NEAR(x) * state-of-the-art")
    assert query.terms == (
        "pruning",
        "and",
        "lottery",
        "or",
        "venue",
        "foo",
        "near",
        "x",
        "state",
        "of",
        "the",
        "art",
    )


def test_a_leading_minus_leaves_out_and_a_column_name_picks_a_field(fts: sqlite3.Connection) -> None:
    query = parse_search('pruning -"grow sometimes" title:global -abstract:lottery TITLE:"magnitude pruning"')
    assert query.terms == ("pruning",)
    assert query.required == (("title", ("global",)), ("title", ("magnitude", "pruning")))
    assert query.excluded == ((None, ("grow", "sometimes")), ("abstract", ("lottery",)))
    assert (
        query.text() == 'pruning title:global title:"magnitude pruning" -"grow sometimes" -abstract:lottery'
    )

    def count(text: str, mode: Mode = Mode.ALL) -> int:
        row = fts.execute(
            "SELECT count(*) FROM t WHERE t MATCH ?", (to_fts(parse_search(text), mode),)
        ).fetchone()
        return int(row[0])

    assert (
        count("pruning -lottery") == 1 and count("pruning -grow") == 0 and count("pruning -title:grow") == 1
    )
    assert count("title:pruning") == 1 and count("title:prune") == 0 and count("abstract:prune") == 1
    assert count("global -weights absent", Mode.ANY) == 0 and count("global absent", Mode.ANY) == 1


@pytest.mark.parametrize(
    ("text", "told"),
    [
        ("-diffusion", "only leaves words out"),
        ('-"video generation" -audio', "only leaves words out"),
        ("(((", "no words to look for"),
        ("- * :", "no words to look for"),
        ('""', "no words to look for"),
        # A column named with nothing after it is not a search for the word "author".
        ('author:"', "no words to look for"),
        ("author:", "no words to look for"),
        ("-title:", "no words to look for"),
    ],
)
def test_text_with_nothing_to_look_for_is_told_so(text: str, told: str) -> None:
    assert not parse_search(text)
    with pytest.raises(InvalidInput, match=told):
        searchable(text)


def test_a_dangling_column_name_adds_nothing_and_another_name_stays_words() -> None:
    assert parse_search("diffusion author:") == parse_search("diffusion")
    assert parse_search('diffusion title:"') == parse_search("diffusion")
    assert parse_search("note: pruning").terms == ("note", "pruning")
    assert parse_search("pruning -note:").excluded == ((None, ("note",)),)


def test_unbalanced_quote_is_punctuation() -> None:
    assert parse_search('"global magnitude pruning').terms == ("global", "magnitude", "pruning")


def test_bare_words_side_by_side_are_one_phrase_beside_the_quoted_ones(fts: sqlite3.Connection) -> None:
    together = as_one_phrase(parse_search('global "magnitude" pruning "we prune"'))
    assert together is not None
    assert to_fts(together) == '"global magnitude pruning" AND "we prune"'
    assert fts.execute("SELECT count(*) FROM t WHERE t MATCH ?", (to_fts(together),)).fetchone() == (1,)
    apart = as_one_phrase(parse_search("pruning magnitude"))
    assert apart is not None
    assert fts.execute("SELECT count(*) FROM t WHERE t MATCH ?", (to_fts(apart),)).fetchone() == (0,)
    assert as_one_phrase(parse_search('pruning "global magnitude"')) is None  # one bare word: no new phrase


@given(typed_text(max_size=400))  # past MAX_QUERY_CHARS: the cut may fall inside a phrase
@example('0 TITLE:0"1')  # a column's words are scored too: they stay beside the joined phrase
def test_a_joined_phrase_holds_every_word_of_the_query(text: str) -> None:
    query = parse_search(text)
    together = as_one_phrase(query)
    assert (together is None) == (len(query.terms) < 2)
    if together is not None:
        assert together.all_words() == (*query.terms, *query.all_words()[len(query.terms) :])
        assert together.size == len(query.phrases) + 1 + len(query.required)
        assert together.required == query.required and together.excluded == query.excluded


def test_a_query_is_spelt_back_with_its_quotes_columns_and_exclusions() -> None:
    query = parse_search('"difusion model" 扩散模型 author:"ada lovelace" -video -"gpt 的"')
    assert query.text() == '"difusion model" "扩散模型" author:"ada lovelace" -video -"gpt的"'


@given(typed_text(max_size=400))
@settings(max_examples=examples(300))
@example('"difusion model" video')
@example('扩散模型 "gpt 的能力" -title:"a b" authors:x')
def test_the_text_of_a_query_parses_back_to_the_same_query(text: str) -> None:
    query = parse_search(text)
    spelt = query.text()
    # Folding may lengthen text ("ß" -> "ss") past the parser's bound: only a text within it is
    # parsed whole, so only such a one is expected back unchanged.
    assume(len(strip_invisible(spelt)) <= MAX_QUERY_CHARS)
    assert parse_search(spelt) == query


def test_term_count_is_bounded() -> None:
    assert parse_search(" ".join(f"w{i}" for i in range(100))).size == MAX_TERMS


def test_column_scope_and_alternatives(fts: sqlite3.Connection) -> None:
    expression = alternatives_to_fts([["global", "globe"], ["prun"]], column="title")
    assert expression == '{title} : (("global" OR "globe") AND "prun")'
    assert fts.execute("SELECT count(*) FROM t WHERE t MATCH ?", (expression,)).fetchone() == (0,)


@settings(max_examples=examples(300))
@given(typed_text(max_size=400))
def test_any_user_text_is_a_valid_fts5_query(fts: sqlite3.Connection, text: str) -> None:
    query = parse_search(text)
    if not query:
        return
    for mode in Mode:
        for column in (None, "title"):
            # Raises sqlite3.OperationalError on any syntax that leaked through.
            fts.execute(
                "SELECT count(*) FROM t WHERE t MATCH ?", (to_fts(query, mode, column=column),)
            ).fetchone()
    together = as_one_phrase(query)
    if together is not None:
        fts.execute("SELECT count(*) FROM t WHERE t MATCH ?", (to_fts(together),)).fetchone()


@given(
    st.lists(
        st.sampled_from(
            [
                '"',
                "(",
                ")",
                "*",
                "-",
                ":",
                "AND",
                "OR",
                "NOT",
                "^",
                "+",
                "pruning",
                "-x",
                "title:",
                "-author:",
                "{",
            ]
        ),
        max_size=12,
    )
)
def test_operator_soup_never_reaches_sqlite(fts: sqlite3.Connection, parts: list[str]) -> None:
    for joined in (" ".join(parts), "".join(parts)):
        query = parse_search(joined)
        if query:
            for mode in Mode:
                fts.execute("SELECT count(*) FROM t WHERE t MATCH ?", (to_fts(query, mode),)).fetchone()
                to_tsquery(to_fts(query, mode))


HAN_KANA = st.text(st.sampled_from("扩散模型的研究日本語の論文大規言拡デルカタナ々"), min_size=1, max_size=12)
LATIN = st.text(st.sampled_from("diffusonmelab"), min_size=1, max_size=8)


@settings(max_examples=examples(200))
@given(st.lists(st.one_of(HAN_KANA, LATIN), min_size=1, max_size=6), st.data())
def test_any_part_of_a_han_or_kana_run_finds_the_text_and_its_reverse_does_not(
    parts: list[str], data: st.DataObject
) -> None:
    """Chinese and Japanese have no spaces: typing any stretch of a run must find the text (as a
    reader's Ctrl-F would), and only as a stretch of characters side by side."""
    runs = [part for part in parts if not part.isascii()]
    if not runs:
        return
    text = data.draw(st.sampled_from([" ", "", "・", ", "])).join(parts)
    run = data.draw(st.sampled_from(runs))
    start = data.draw(st.integers(0, len(run) - 1))
    typed = run[start : data.draw(st.integers(start + 1, len(run)))]
    index = sqlite3.connect(":memory:")
    index.execute("CREATE VIRTUAL TABLE t USING fts5(text, tokenize='unicode61 remove_diacritics 2')")
    index.execute("INSERT INTO t VALUES (?)", (search_text(text),))
    query = parse_search(typed)
    assert query.terms == () if len(typed) > 1 else query.phrases == ()
    assert index.execute("SELECT count(*) FROM t WHERE t MATCH ?", (to_fts(query),)).fetchone() == (1,)
    if "".join(words(typed[::-1])) not in "".join(words(text)):  # (positions ignore spaces)
        reverse = to_fts(parse_search(typed[::-1]))
        assert index.execute("SELECT count(*) FROM t WHERE t MATCH ?", (reverse,)).fetchone() == (0,)
    to_tsquery(to_fts(query))  # PostgreSQL reads the same query (a phrase of lexemes)
