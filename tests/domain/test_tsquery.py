"""The PostgreSQL translation of the project's safe FTS5 queries: every word a quoted lexeme,
nothing a user types becomes tsquery syntax, and documents keep columns apart."""

from __future__ import annotations

import contextlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.query import Mode, alternatives_to_fts, parse_search, to_fts
from bot.domain.tsquery import UnsafeQuery, to_tsquery
from tests.typed_text import typed_text

_LEXEME = re.compile(r"'((?:[^']|'')*)'")


@given(typed_text(max_size=400))  # past MAX_QUERY_CHARS and MAX_TERMS, with syntax
def test_every_search_the_project_builds_translates_to_its_own_words(text: str) -> None:
    query = parse_search(text)
    if not query:
        return
    for mode in Mode:
        translated = to_tsquery(to_fts(query, mode))
        lexemes = {found.replace("''", "'") for found in _LEXEME.findall(translated)}
        left_out = {word for _, found in query.excluded for word in found}
        assert lexemes == set(query.all_words()) | left_out
        # Outside the quoted lexemes only the operators the translation itself writes.
        assert set(_LEXEME.sub("", translated)) <= set("&|!()<-> :ABC")


@given(
    st.lists(st.lists(st.from_regex(r"[a-zß0-9]{1,8}", fullmatch=True), min_size=1, max_size=3), max_size=4)
)
def test_autocomplete_alternatives_translate_to_plain_title_words(groups: list[list[str]]) -> None:
    if not groups:
        return
    # No weight: PostgreSQL's title_search (migration 0024) holds title words only.
    translated = to_tsquery(alternatives_to_fts(groups, anchored=True))
    assert ":" not in translated
    assert all("'^" + word + "'" in translated for word in groups[0])  # first word of the title
    assert all("'" + word + "'" in translated for group in groups[1:] for word in group)


@given(typed_text(max_size=60))
def test_raw_text_is_translated_only_when_it_is_the_safe_grammar(text: str) -> None:
    with contextlib.suppress(UnsafeQuery):
        to_tsquery(text)


@pytest.mark.parametrize(
    "hostile", ["AND", "a & b", "'x' | 'y'", "x:*", '"a" AND', "(", '"a")', '{evil} : ("a")']
)
def test_text_outside_the_grammar_is_refused(hostile: str) -> None:
    with pytest.raises(UnsafeQuery):
        to_tsquery(hostile)


def test_quotes_and_backslashes_in_words_stay_inside_the_lexeme() -> None:
    assert to_tsquery('"o\'brien"') == "'o''brien'"
