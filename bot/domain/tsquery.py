"""PostgreSQL's full-text language for the project's safe FTS5 queries, and the documents they match.

Repositories receive FTS5 query text built by ``bot.domain.query`` (quoted words and phrases, AND,
OR, NOT (``a NOT b``: a and not b, so ``a & !b``), parentheses, ``^`` for "first word of the
title", ``{columns} : (...)``). On PostgreSQL the
same text becomes a ``tsquery`` literal: every word a quoted lexeme (``'word'``, never parsed by a
text-search configuration, so nothing is stemmed or dropped), a phrase ``'a' <-> 'b'``, a column
scope a weight set (title A, abstract B, authors C). Anything outside that grammar raises
``UnsafeQuery`` (the repository answers "no match"), so no text reaches PostgreSQL as syntax.

Documents are built by the server (``paperbot_document``, migration 0001 for PostgreSQL) from the
same folded words SQLite's index holds, with positions, so phrases and "first word" behave alike.
"""

from __future__ import annotations

import re

WEIGHTS = {"title": "A", "abstract": "B", "authors": "C"}
FIRST_WORD = "^"  # prefix of the title's first word's extra lexeme (no word holds it)
_TOKEN = re.compile(
    r'\s*(?:(?P<word>"(?:[^"]|"")*")|(?P<op>AND|OR|NOT)\b|(?P<paren>[()])|(?P<caret>\^)'
    r"|(?P<scope>\{[a-z ]+\}\s*:))"
)


class UnsafeQuery(ValueError):
    """Query text outside the grammar ``bot.domain.query`` produces."""


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def to_tsquery(fts: str) -> str:
    """The ``tsquery`` literal of a safe FTS5 query."""
    tokens = _tokens(fts)
    out: list[str] = []
    scope_stack: list[str] = []
    pending_scope = ""
    caret = False
    operand_next = True  # the grammar alternates operands and operators
    for kind, value in tokens:
        if (kind in ("op",) or value == ")") == operand_next:
            raise UnsafeQuery(fts)
        if kind == "scope":
            names = value.strip("{}: \t").split()
            if not names or any(name not in WEIGHTS for name in names):
                raise UnsafeQuery(fts)
            pending_scope = "".join(sorted(WEIGHTS[name] for name in names))
        elif kind == "paren":
            if value == "(":
                scope_stack.append(pending_scope or (scope_stack[-1] if scope_stack else ""))
                pending_scope = ""
                out.append("(")
            else:
                if not scope_stack:
                    raise UnsafeQuery(fts)
                scope_stack.pop()
                out.append(")")
        elif kind == "op":
            out.append({"AND": " & ", "OR": " | ", "NOT": " & !"}[value])
        elif kind == "caret":
            caret = True
        else:
            scope = pending_scope or (scope_stack[-1] if scope_stack else "")
            phrase = [w for w in value[1:-1].replace('""', '"').split(" ") if w]
            if not phrase:
                raise UnsafeQuery(fts)
            suffix = f":{scope}" if scope else ""
            if caret:
                phrase[0] = FIRST_WORD + phrase[0]
                caret = False
            lexemes = [_lexeme(word) + suffix for word in phrase]
            out.append(lexemes[0] if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")")
        operand_next = kind in ("op", "scope", "caret") or value == "("
    if scope_stack or not out or operand_next:
        raise UnsafeQuery(fts)
    return "".join(out)


def _tokens(fts: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    at = 0
    while at < len(fts):
        if fts[at:].strip() == "":
            break
        match = _TOKEN.match(fts, at)
        if match is None or match.end() == at:
            raise UnsafeQuery(fts)
        kind = match.lastgroup
        assert kind is not None
        found.append((kind, match.group(kind)))
        at = match.end()
    return found
