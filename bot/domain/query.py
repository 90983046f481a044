"""User search text -> a safe FTS5 query.

Every word is re-emitted as a quoted FTS5 string built from folded word characters only, so
nothing a user types (quotes, ``AND``, ``*``, ``:``, parentheses, NEAR, column names) can reach
FTS5 as syntax. The grammar a reader may use, the same on both backends:

* ``"exact phrase"``: balanced double quotes keep a phrase; an unbalanced quote is punctuation.
* ``-word`` or ``-"a phrase"`` at the start of a word: papers holding it are left out.
* ``title:word``, ``abstract:word``, ``author:name`` (``authors:`` too; a quoted phrase may follow):
  that column must hold it. Any other ``name:`` is no syntax: its words are searched as typed.

Everything else is words; ``AND``, ``OR`` and ``NOT`` are words too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

from bot.domain.text import strip_invisible, typed_words, words, written
from bot.errors import InvalidInput

MAX_QUERY_CHARS = 300
MAX_TERMS = 12
# One part of the text: an optional "-" or "name:" at the start of a word, then a quoted phrase or
# a run without spaces or quotes; any other character (a lone quote) is punctuation.
# A column name with nothing after it (``author:``, ``author:"``) is "dangling": nothing to look for
# in that column, not a search for the word "author".
_PART = re.compile(
    r'(?P<dangling>(?<!\S)-?[^\W\d_]+:"?)(?=\s|$)'
    r'|(?P<prefix>(?<!\S)(?:-?[^\W\d_]+:|-))?(?:"(?P<quoted>[^"]*)"|(?P<bare>[^\s"]+))|"'
)
# The columns a reader may name, by the names people type.
COLUMNS = {"title": "title", "abstract": "abstract", "author": "authors", "authors": "authors"}
# How a column is named back to a reader: the name people type (``author:``, as in the help).
TYPED_NAMES = {"title": "title", "abstract": "abstract", "authors": "author"}
EXAMPLE = "`diffusion -video title:survey`"


class Mode(Enum):
    ALL = " AND "
    ANY = " OR "


Scoped = tuple[str | None, tuple[str, ...]]  # a column (None: any) and the words it holds side by side


@dataclass(frozen=True, slots=True)
class SearchQuery:
    terms: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    # ``title:word``: a column that must hold these words, in every pass (never respelt).
    required: tuple[Scoped, ...] = ()
    # ``-word``: papers holding these are left out, in every pass.
    excluded: tuple[Scoped, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.terms or self.phrases or self.required)

    @property
    def size(self) -> int:
        """The words and phrases a match is scored on."""
        return len(self.terms) + len(self.phrases) + len(self.required)

    @property
    def loose(self) -> int:
        """The words and phrases a pass may relax (any of them rather than all)."""
        return len(self.terms) + len(self.phrases)

    def all_words(self) -> tuple[str, ...]:
        """Every word a match holds (excluded words are not held)."""
        phrases = (*self.phrases, *(found for _, found in self.required))
        return self.terms + tuple(word for phrase in phrases for word in phrase)

    def text(self) -> str:
        """The query as a reader would type it (terms first), every phrase, column and exclusion
        spelt as it ran: ``parse_search(query.text()) == query``. It is shown to the reader
        ("spelling corrected to ..."), so a phrase must keep its quotes: without them the note
        names a looser search than the one whose hits it heads."""
        parts = [*self.terms, *(_quoted(phrase) for phrase in self.phrases)]
        parts += [_typed(column, found, "") for column, found in self.required]
        parts += [_typed(column, found, "-") for column, found in self.excluded]
        return " ".join(parts)


def _typed(column: str | None, found: tuple[str, ...], sign: str) -> str:
    text = found[0] if len(found) == 1 else _quoted(found)
    return sign + (f"{TYPED_NAMES[column]}:" if column else "") + text


def _quoted(found: tuple[str, ...]) -> str:
    # Han and kana characters are written side by side ("扩散模型"), as typed: parsing splits them
    # into words again, and spaces between them would read oddly and lengthen the note.
    return '"' + written(found) + '"'


def parse_search(text: str) -> SearchQuery:
    """Words, exact phrases, column filters and exclusions of a user's search text (bounded in
    length, and to ``MAX_TERMS`` parts in the order typed)."""
    parts: list[tuple[str, Scoped]] = []  # (kind, (column, words)), in the order typed
    for part in _PART.finditer(strip_invisible(text)[:MAX_QUERY_CHARS]):
        prefix, quoted, bare = part["prefix"] or "", part["quoted"], part["bare"]
        dangling = part["dangling"]
        if dangling is not None:
            if COLUMNS.get(dangling.lstrip("-").rstrip('"')[:-1].casefold()) is not None:
                continue  # a column named, nothing in it to look for
            # Not a column: words, as before (``-note:`` leaves "note" out).
            prefix, bare = ("-", dangling[1:]) if dangling.startswith("-") else ("", dangling)
        sign, name = prefix[:1] == "-", prefix.lstrip("-")
        column = COLUMNS.get(name[:-1].casefold()) if name else None
        if name and column is None:  # no column of that name: its words are words
            bare = part[0][1:] if sign else part[0]
        if quoted is None and bare is None:
            continue  # a lone quote is punctuation
        found = tuple(words(quoted if quoted is not None else bare or ""))
        if not found:
            continue
        if sign:
            parts.append(("excluded", (column, found)))
        elif column is not None:
            parts.append(("required", (column, found)))
        elif quoted is not None:
            parts.append(("phrase" if len(found) > 1 else "term", (None, found)))
        else:  # Chinese or Japanese: the characters of a typed run side by side, as a phrase
            groups = typed_words(bare or "")
            parts += [("phrase" if len(group) > 1 else "term", (None, group)) for group in groups]
    kept = list(dict.fromkeys(parts))[:MAX_TERMS]
    return SearchQuery(
        tuple(found[0] for kind, (_, found) in kept if kind == "term"),
        tuple(found for kind, (_, found) in kept if kind == "phrase"),
        tuple(scoped for kind, scoped in kept if kind == "required"),
        tuple(scoped for kind, scoped in kept if kind == "excluded"),
    )


def searchable(text: str) -> SearchQuery:
    """``parse_search(text)``, or ``InvalidInput`` saying why it holds nothing to look for (rather
    than an answer that ignores what was typed)."""
    query = parse_search(text)
    if query:
        return query
    if query.excluded:
        raise InvalidInput(f"That search only leaves words out: add a word to look for, e.g. {EXAMPLE}.")
    raise InvalidInput(
        "That search has no words to look for (punctuation alone matches nothing): "
        "type words of a title, an abstract or an author's name."
    )


def as_one_phrase(query: SearchQuery) -> SearchQuery | None:
    """The query with its bare words side by side, in the order typed, as one phrase (its quoted
    phrases kept), or None when there are fewer than two bare words to join."""
    if len(query.terms) < 2:
        return None
    return replace(query, terms=(), phrases=(query.terms, *query.phrases))


def quote(term: str) -> str:
    """An FTS5 string literal (terms are word characters already; doubling quotes is belt and braces)."""
    return '"' + term.replace('"', '""') + '"'


def to_fts(query: SearchQuery, mode: Mode = Mode.ALL, *, column: str | None = None) -> str:
    """``mode`` joins the words and phrases; column filters are required and exclusions left out
    whatever the mode: ``("a" OR "b") AND {title} : "c" NOT "d"``."""
    parts = [quote(term) for term in query.terms] + [quote(" ".join(phrase)) for phrase in query.phrases]
    loose = mode.value.join(parts)
    if len(parts) > 1 and query.required:
        loose = f"({loose})"
    expression = " AND ".join(([loose] if loose else []) + [_part(scoped) for scoped in query.required])
    if query.excluded:
        expression = f"({expression})" + "".join(" NOT " + _part(scoped) for scoped in query.excluded)
    return _scoped(expression, column)


def _part(scoped: Scoped) -> str:
    column, found = scoped
    return _scoped(quote(" ".join(found)), column)


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
