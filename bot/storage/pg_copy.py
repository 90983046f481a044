"""Rows as PostgreSQL's COPY text format, made as the server reads them.

A bulk write by COPY costs the server one stream instead of a Bind and an Execute per row, and the
rows are made lazily, a chunk at a time, while the server stores the chunk before: the bench
process builds paper k+1's search document while the server stores paper k (both halves of a
paper's cost, client and server, used to run one after the other). The text format is used, not
asyncpg's binary one, because asyncpg has no binary encoder for ``tsvector``: the search column
goes in as its text, read by the server exactly as ``?::text::tsvector`` reads it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence

# Characters COPY's text format gives a meaning (column and row ends, the escape itself).
_SPECIAL = re.compile(r"[\\\t\n\r]")
_ESCAPED = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_NULL = "\\N"
# Rows a chunk holds: small enough that the server starts on the first rows while later ones are
# made, large enough that a chunk's message costs little (a paper's row is about 3 kB).
CHUNK_ROWS = 64


def _escaped(match: re.Match[str]) -> str:
    return _ESCAPED[match.group()]


def field(value: object) -> str:
    """One column's value as COPY text (None is NULL)."""
    if value is None:
        return _NULL
    text = value if isinstance(value, str) else str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return _SPECIAL.sub(_escaped, text)
    return text


def line(row: Sequence[object]) -> str:
    """One row as a line of COPY text."""
    fields = [_NULL if value is None else value if type(value) is str else str(value) for value in row]
    text = "\t".join(fields)
    # Most rows hold nothing to escape: one look at the whole line tells (its only tabs the ones
    # joining it, its only backslashes the NULL markers'); else each field is escaped.
    if (
        text.count("\\") != row.count(None)
        or text.count("\t") != len(fields) - 1
        or "\n" in text
        or "\r" in text
    ):
        text = "\t".join(map(field, row))
    return text + "\n"


def chunks(rows: Iterable[Sequence[object]], size: int = CHUNK_ROWS) -> Iterator[bytes]:
    """The rows' COPY text, ``size`` rows a chunk, made as each chunk is asked for."""
    pending: list[str] = []
    for row in rows:
        pending.append(line(row))
        if len(pending) == size:
            yield "".join(pending).encode()
            pending = []
    if pending:
        yield "".join(pending).encode()


async def streamed(rows: Iterable[Sequence[object]]) -> AsyncIterator[bytes]:
    """``chunks`` for asyncpg's ``copy_to_table(source=...)``, which takes an async iterable."""
    for chunk in chunks(rows):
        yield chunk
