"""Rows written with COPY (the PostgreSQL ingest's stream) are stored exactly as given: text with
tabs, line breaks, backslashes, quotes and any other characters a paper may hold, NULLs and
numbers, read back unchanged."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.storage.connection import BulkCopy
from bot.storage.postgres import PostgresDatabase

# Any text PostgreSQL can store (no NUL, no lone surrogate), with COPY's own characters likelier.
TEXTS = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")) | st.text(
    alphabet=st.sampled_from(list("\\\t\n\r ab'\"\\N.é😀"))
)
ROWS = st.lists(st.tuples(st.integers(-(2**63), 2**63 - 1), TEXTS, st.none() | TEXTS), max_size=150)


async def test_copied_rows_read_back_as_they_were_given(postgres_url: str) -> None:
    store = await PostgresDatabase.open(postgres_url)
    loop = asyncio.get_running_loop()

    def on_loop(coroutine):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    async def round_trip(rows: list[tuple[int, str, str | None]]) -> list[tuple[int, str, str | None]]:
        async with store.transaction() as connection:
            assert isinstance(connection, BulkCopy)
            await connection.execute("DELETE FROM copied")
            assert await connection.copy_rows("copied", ("number", "text", "maybe"), rows) == len(rows)
            found = await connection.fetch_all("SELECT number, text, maybe FROM copied ORDER BY position")
        return [tuple(row) for row in found]

    @settings(max_examples=80)
    @given(ROWS)
    def check(rows: list[tuple[int, str, str | None]]) -> None:
        assert on_loop(round_trip(rows)) == rows

    try:
        await store.connection.execute(
            "CREATE TABLE copied (position BIGINT GENERATED ALWAYS AS IDENTITY, number BIGINT, "
            "text TEXT NOT NULL, maybe TEXT)"
        )
        # The text that spells NULL, and each character COPY gives a meaning, as plain text.
        edges = [(1, "\\N", None), (2, "a\tb", "\\N"), (3, "line\nbreak\r", "back\\slash\\"), (4, "", "")]
        assert await round_trip(edges) == edges
        # Hypothesis drives the examples from a thread; each round trip runs on this test's loop.
        await asyncio.to_thread(check)
    finally:
        await store.close()
