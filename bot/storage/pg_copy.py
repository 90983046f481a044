"""Rows as PostgreSQL's COPY text format (or its binary format, ``binary_chunks``), made as the
server reads them.

A bulk write by COPY costs the server one stream instead of a Bind and an Execute per row, and the
rows are made lazily, a chunk at a time, while the server stores the chunk before: the bench
process builds paper k+1's search document while the server stores paper k (both halves of a
paper's cost, client and server, used to run one after the other). The text format is used, not
asyncpg's binary one, because asyncpg has no binary encoder for ``tsvector``: the search column
goes in as its text, read by the server exactly as ``?::text::tsvector`` reads it.
"""

from __future__ import annotations

import asyncio
import re
import struct
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from itertools import islice
from operator import methodcaller

# Characters COPY's text format gives a meaning (column and row ends, the escape itself).
_SPECIAL = re.compile(r"[\\\t\n\r]")
_ESCAPED = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_NULL = "\\N"
# Rows made into text at a time (one look for COPY's characters over all of them), and the bytes a
# chunk sent holds at least: small enough that the server starts on the first rows while later ones
# are made, large enough that a chunk's message costs little (a paper's row is about 3 kB, one
# slice a chunk; an author's row 60 bytes, about seventeen slices a chunk).
SLICE_ROWS = 64
CHUNK_BYTES = 1 << 16
_NULLS = methodcaller("count", None)


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


def chunks(rows: Iterable[Sequence[object]], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The rows' COPY text, at least ``size`` bytes a chunk (the last one excepted), made as each
    chunk is asked for."""
    rows = iter(rows)
    pending: list[bytes] = []
    held = 0
    while part := list(islice(rows, SLICE_ROWS)):
        data = _lines(part)
        pending.append(data)
        held += len(data)
        if held >= size:
            yield b"".join(pending)
            pending, held = [], 0
    if pending:
        yield b"".join(pending)


def _lines(rows: list[Sequence[object]]) -> bytes:
    """``line`` of each row, joined and encoded: made as if nothing needs escaping, then checked
    once for the whole slice (its only tabs the ones joining fields, its only backslashes the NULL
    markers', a line break only at each row's end); a slice that holds any is made line by line.
    The check reads the UTF-8 bytes, where those characters are single bytes that no other
    character's encoding holds: a byte search, however wide the text's characters."""
    # Each line encoded apart: joined as text first, one wide character would widen the whole slice.
    lines = [
        "\t".join(
            [_NULL if value is None else value if type(value) is str else str(value) for value in row]
        ).encode()
        for row in rows
    ]
    lines.append(b"")
    data = b"\n".join(lines)
    if (
        data.count(b"\\") != sum(map(_NULLS, rows))
        or data.count(b"\t") != sum(map(len, rows)) - len(rows)
        or data.count(b"\n") != len(rows)
        or b"\r" in data
    ):
        return "".join(map(line, rows)).encode()
    return data


def streamed(rows: Iterable[Sequence[object]]) -> AsyncIterator[bytes]:
    """``chunks`` for asyncpg's ``copy_to_table(source=...)``, which takes an async iterable."""
    return _yielding(chunks(rows))


async def _yielding(stream: Iterator[bytes]) -> AsyncIterator[bytes]:
    """``stream``'s chunks, yielding to the event loop after each: asyncpg only waits when the
    socket's buffer is full, and rows made inside the stream (a paper's row and search document,
    about 1.5 ms a chunk) would otherwise keep the running bot's other work waiting for the whole
    COPY."""
    for chunk in stream:
        yield chunk
        await asyncio.sleep(0)


# COPY's binary format: a signature, no flags, no header extension; each row its field count and
# each field its length (-1 for NULL) and bytes; -1 as a row's field count ends the stream.
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_BINARY_END = b"\xff\xff"
_BINARY_NULL = b"\xff\xff\xff\xff"
_INT8 = struct.Struct("!iq").pack
_INT4 = struct.Struct("!ii").pack


def _text_field(value: object) -> bytes:
    data = (value if isinstance(value, str) else str(value)).encode()
    return len(data).to_bytes(4, "big") + data


def _raw_field(value: object) -> bytes:
    assert isinstance(value, bytes)  # a value already in its type's binary form (tsvectorsend's)
    return len(value).to_bytes(4, "big") + value


# How each kind of column's value is sent in binary: text as its UTF-8 bytes (what textrecv
# reads), bigint and integer as 8 and 4 big-endian bytes, "raw" as the bytes given.
BINARY_KINDS: dict[str, Callable[[object], bytes]] = {
    "text": _text_field,
    "int8": lambda value: _INT8(8, value),
    "int4": lambda value: _INT4(4, value),
    "raw": _raw_field,
}


# Each kind's letter for the compiled encoder (bot/storage/_pg_copy.c).
_KIND_CODES = {"text": "t", "int8": "q", "int4": "i", "raw": "r"}


def binary_chunks(
    rows: Iterable[Sequence[object]], kinds: Sequence[str], size: int = CHUNK_BYTES
) -> Iterator[bytes]:
    """The rows in COPY's binary format, each column sent as its kind in ``BINARY_KINDS`` says
    (the server reads no text: a vector in binary costs it a twentieth of reading its text), at
    least ``size`` bytes a chunk (the last one excepted), made as each chunk is asked for. Encoded
    in C where the extension was built (about a sixth of the Python's cost a row), else in Python:
    the same bytes, chunk for chunk."""
    if _compiled_fill is not None:
        return _compiled_chunks(_compiled_fill, iter(rows), kinds, size)
    return python_binary_chunks(rows, kinds, size)


def _compiled_chunks(
    fill: Fill, rows: Iterator[Sequence[object]], kinds: Sequence[str], size: int
) -> Iterator[bytes]:
    codes = "".join(_KIND_CODES[kind] for kind in kinds).encode()
    encoders = tuple(BINARY_KINDS[kind] for kind in kinds)
    head = _BINARY_HEADER
    while True:
        chunk, ended = fill(rows, codes, encoders, size, head, _BINARY_END)
        yield chunk
        if ended:
            return
        head = b""


def python_binary_chunks(
    rows: Iterable[Sequence[object]], kinds: Sequence[str], size: int = CHUNK_BYTES
) -> Iterator[bytes]:
    """``binary_chunks`` in Python (where the extension was not built)."""
    encoders = [BINARY_KINDS[kind] for kind in kinds]
    count = len(encoders).to_bytes(2, "big")
    pending: list[bytes] = [_BINARY_HEADER]
    held = len(_BINARY_HEADER)
    for row in rows:
        fields = [count]
        fields += [
            _BINARY_NULL if value is None else encode(value)
            for encode, value in zip(encoders, row, strict=True)
        ]
        data = b"".join(fields)
        pending.append(data)
        held += len(data)
        if held >= size:
            yield b"".join(pending)
            pending, held = [], 0
    pending.append(_BINARY_END)
    yield b"".join(pending)


Fill = Callable[
    [Iterator[Sequence[object]], bytes, tuple[Callable[[object], bytes], ...], int, bytes, bytes],
    tuple[bytes, bool],
]


def _compiled() -> Fill | None:
    try:
        from bot.storage._pg_copy import fill
    except ImportError:  # not built (no C compiler where it was installed): the Python encoder
        return None
    return fill


_compiled_fill = _compiled()


def binary_streamed(rows: Iterable[Sequence[object]], kinds: Sequence[str]) -> AsyncIterator[bytes]:
    """``binary_chunks`` for asyncpg's ``copy_to_table(source=..., format="binary")``."""
    return _yielding(binary_chunks(rows, kinds))
