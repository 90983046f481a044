"""User search text -> a safe FTS5 query.

Every word is re-emitted as a quoted FTS5 string built from folded word characters only, so
nothing a user types (quotes, ``AND``, ``*``, ``-``, ``:``, parentheses, NEAR, column names)
can reach FTS5 as syntax. Balanced double quotes keep an exact phrase; an unbalanced quote is
just punctuation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from bot.domain.text import strip_invisible, typed_words, words

MAX_QUERY_CHARS = 300
MAX_TERMS = 12
_PHRASE = re.compile(r'"([^"]*)"')


class Mode(Enum):
    ALL = " AND "
    ANY = " OR "


@dataclass(frozen=True, slots=True)
class SearchQuery:
    terms: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.terms or self.phrases)

    @property
    def size(self) -> int:
        return len(self.terms) + len(self.phrases)

    def all_words(self) -> tuple[str, ...]:
        return self.terms + tuple(word for phrase in self.phrases for word in phrase)

    def text(self) -> str:
        return " ".join([*self.terms, *(" ".join(p) for p in self.phrases)])


def parse_search(text: str) -> SearchQuery:
    """Words and exact phrases of a user's search text (bounded in length and term count)."""
    text = strip_invisible(text)[:MAX_QUERY_CHARS]
    phrases: list[tuple[str, ...]] = []
    for found in _PHRASE.findall(text):
        phrase = tuple(words(found))
        if len(phrase) > 1:
            phrases.append(phrase)
    rest = _PHRASE.sub(lambda m: " " + m.group(1) + " " if len(words(m.group(1))) == 1 else " ", text)
    terms: list[str] = []
    for group in typed_words(rest):
        if len(group) > 1:  # Chinese or Japanese: the characters of a typed run side by side
            phrases.append(group)
        elif group[0] not in terms:
            terms.append(group[0])
    budget = MAX_TERMS - min(len(phrases), MAX_TERMS)
    return SearchQuery(tuple(terms[:budget]), tuple(phrases[:MAX_TERMS]))


def as_one_phrase(query: SearchQuery) -> SearchQuery | None:
    """The query with its bare words side by side, in the order typed, as one phrase (its quoted
    phrases kept), or None when there are fewer than two bare words to join."""
    if len(query.terms) < 2:
        return None
    return SearchQuery((), (query.terms, *query.phrases))


def quote(term: str) -> str:
    """An FTS5 string literal (terms are word characters already; doubling quotes is belt and braces)."""
    return '"' + term.replace('"', '""') + '"'


def to_fts(query: SearchQuery, mode: Mode = Mode.ALL, *, column: str | None = None) -> str:
    parts = [quote(term) for term in query.terms] + [quote(" ".join(phrase)) for phrase in query.phrases]
    return _scoped(mode.value.join(parts), column)


def alternatives_to_fts(
    groups: Sequence[Sequence[str]],
    mode: Mode = Mode.ALL,
    *,
    column: str | None = None,
    anchored: bool = False,
) -> str:
    """``(a1 OR a2) AND (b1 OR b2)``: each group holds spellings or completions of one typed word.
    ``anchored``: the first group's word must begin the text (FTS5's ``^``)."""
    parts = []
    for index, group in enumerate(groups):
        caret = "^" if anchored and index == 0 else ""
        options = " OR ".join(caret + quote(term) for term in group)
        parts.append(f"({options})" if len(group) > 1 else options)
    return _scoped(mode.value.join(parts), column)


def _scoped(expression: str, column: str | None) -> str:
    if column is None:
        return expression
    return f"{{{column}}} : ({expression})"
