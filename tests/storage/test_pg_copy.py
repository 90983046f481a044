"""Rows written with COPY (the PostgreSQL ingest's stream) are stored exactly as given: text with
tabs, line breaks, backslashes, quotes and any other characters a paper may hold, NULLs and
numbers, read back unchanged. The stream is made a slice of rows at a time, checked for COPY's
characters once a slice: it is every row's own line, in order, whatever the slice holds. The
binary format (the papers' stream, whose search vector goes in as ``tsvectorsend``'s bytes) stores
the same, whether its rows are encoded in C (where the extension was built) or in Python: the two
make the same bytes, chunk for chunk, and fail alike on a value their column cannot take."""

from __future__ import annotations

import asyncio
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bot.storage.pg_copy as pg_copy
from bot.domain.models import Source
from bot.storage._pg_copy import fill
from bot.storage.connection import BulkCopy
from bot.storage.pg_copy import (
    CHUNK_BYTES,
    SLICE_ROWS,
    binary_chunks,
    chunks,
    line,
    python_binary_chunks,
    streamed,
)
from bot.storage.postgres import PostgresDatabase
from tests.property_budget import examples

# Any text PostgreSQL can store (no NUL, no lone surrogate), with COPY's own characters likelier.
TEXTS = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")) | st.text(
    alphabet=st.sampled_from(list("\\\t\n\r ab'\"\\N.é😀"))
)
ROWS = st.lists(st.tuples(st.integers(-(2**63), 2**63 - 1), TEXTS, st.none() | TEXTS), max_size=150)
# Rows of any width, mostly plain (a slice with nothing to escape), some with COPY's characters.
PLAIN = st.text(alphabet=st.sampled_from(list("ab N.é😀'\"")), max_size=8)
VALUES = st.none() | st.integers() | PLAIN | TEXTS
WIDE_ROWS = st.lists(st.lists(VALUES, min_size=1, max_size=6).map(tuple), max_size=3 * SLICE_ROWS + 5)


# Binary rows as the papers' stream sends them (bigint, integer, text, raw), with what each column
# may be handed: NULL, numbers at and past their range, bools, any text (lone surrogates too, which
# cannot be encoded), a str subclass (a Source member), numbers in a text column, bytes.
KINDS = ("int8", "int4", "text", "raw", "text")
HOSTILE_TEXT = st.text(st.characters(codec=None, categories=None)) | st.text(
    alphabet=st.sampled_from(list("\\\t\n\r\x00 ab'\"é😀\ud800"))
)
BINARY_ROWS = st.lists(
    st.tuples(
        st.none() | st.integers(-(2**63), 2**63 - 1) | st.integers() | st.booleans(),
        st.none() | st.integers(-(2**31), 2**31 - 1) | st.integers(-(2**40), 2**40) | st.booleans(),
        st.none() | HOSTILE_TEXT | st.sampled_from(list(Source)) | st.integers(),
        st.none() | st.binary(max_size=40),
        st.none() | HOSTILE_TEXT | st.floats(),
    ),
    max_size=40,
)


def outcome(make: object) -> list[bytes] | str:
    """The chunks made, or the type of the error making them raised."""
    try:
        return list(make())  # type: ignore[operator]
    except Exception as error:
        return type(error).__name__


@given(BINARY_ROWS, st.integers(1, 600))
def test_the_compiled_binary_rows_are_the_python_ones_chunk_for_chunk(
    rows: list[tuple[object, ...]], size: int
) -> None:
    assert pg_copy._compiled_fill is fill  # the extension is built where the tests run
    compiled = outcome(lambda: binary_chunks(rows, KINDS, size))
    assert compiled == outcome(lambda: python_binary_chunks(rows, KINDS, size))
    if isinstance(compiled, list):
        assert all(len(chunk) >= size for chunk in compiled[:-1])


def test_a_row_of_the_wrong_width_is_refused_by_both_encoders() -> None:
    for encode in (binary_chunks, python_binary_chunks):
        with pytest.raises(ValueError, match="shorter"):
            list(encode([(1, 2, "a", b"")], KINDS))
        with pytest.raises(ValueError, match="longer"):
            list(encode([(1, 2, "a", b"", "b", "c")], KINDS))


@pytest.fixture(params=["compiled", "python"])
def binary_encoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The binary stream encoded in C, or in Python as where no compiler built the extension."""
    if request.param == "python":
        monkeypatch.setattr(pg_copy, "_compiled_fill", None)
    return str(request.param)


@given(WIDE_ROWS, st.integers(1, 400))
def test_the_stream_is_each_rows_line_in_order(rows: list[tuple[object, ...]], size: int) -> None:
    made = list(chunks(rows, size))
    assert b"".join(made) == "".join(map(line, rows)).encode()
    assert all(len(chunk) >= size for chunk in made[:-1])  # no message smaller than asked, but the last


def test_a_slice_with_one_special_character_is_escaped_and_the_rest_kept() -> None:
    rows: list[tuple[int, str, str | None]] = [
        (number, f"row {number}", None) for number in range(2 * SLICE_ROWS)
    ]
    rows[SLICE_ROWS + 3] = (7, "tab\there", "back\\slash")
    text = b"".join(chunks(rows)).decode()
    assert text.count("\n") == len(rows)
    assert "7\ttab\\there\tback\\\\slash\n" in text
    assert text.startswith("0\trow 0\t\\N\n")


async def test_the_running_bot_gets_its_turn_between_the_chunks_of_a_long_copy() -> None:
    """A paper's row is made inside the COPY stream (bot.storage.paper_rows.copy_rows) and asyncpg
    only waits when the socket is full: each chunk lets other tasks (an interaction, a heartbeat)
    run before the next is made, not once the whole batch has streamed."""
    rows = [(number, "x" * 3000) for number in range(1000)]  # a batch of paper-sized rows
    turns = 0
    seen: list[int] = []

    async def other_work() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(other_work())
    await asyncio.sleep(0)
    async for chunk in streamed(rows):
        assert len(chunk) >= CHUNK_BYTES
        seen.append(turns)
    task.cancel()
    assert len(seen) > 10
    assert all(later > earlier for earlier, later in pairwise(seen))


@pytest.mark.hypothesis  # its property runs inside: `make stress` selects it by this mark
async def test_copied_rows_read_back_as_they_were_given(postgres_url: str, binary_encoder: str) -> None:
    store = await PostgresDatabase.open(postgres_url)
    loop = asyncio.get_running_loop()

    def on_loop(coroutine):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    async def round_trip(
        rows: list[tuple[int, str, str | None]], binary: bool = False
    ) -> list[tuple[int, str, str | None]]:
        kinds = ("int8", "text", "text") if binary else None
        async with store.transaction() as connection:
            assert isinstance(connection, BulkCopy)
            await connection.execute("DELETE FROM copied")
            copied = await connection.copy_rows("copied", ("number", "text", "maybe"), rows, binary=kinds)
            assert copied == len(rows)
            found = await connection.fetch_all("SELECT number, text, maybe FROM copied ORDER BY position")
        return [tuple(row) for row in found]

    @settings(max_examples=examples(80))
    @given(ROWS, st.booleans())
    def check(rows: list[tuple[int, str, str | None]], binary: bool) -> None:
        # In COPY's text format or its binary one (the papers' stream), alike.
        assert on_loop(round_trip(rows, binary)) == rows

    try:
        await store.connection.execute(
            "CREATE TABLE copied (position BIGINT GENERATED ALWAYS AS IDENTITY, number BIGINT, "
            "text TEXT NOT NULL, maybe TEXT)"
        )
        # The text that spells NULL, and each character COPY gives a meaning, as plain text.
        edges = [(1, "\\N", None), (2, "a\tb", "\\N"), (3, "line\nbreak\r", "back\\slash\\"), (4, "", "")]
        assert await round_trip(edges) == edges
        assert await round_trip(edges, binary=True) == edges
        # Hypothesis drives the examples from a thread; each round trip runs on this test's loop.
        await asyncio.to_thread(check)
    finally:
        await store.connection.execute("DROP TABLE copied")  # the next encoder's run makes its own
        await store.close()
