"""The papers' search column in a ``migrate-store`` copy: built, and checked on its own.

The row digest compares the columns both stores have; the search column is PostgreSQL's alone,
so it was rebuilt but never checked. Each staged paper's folded words (title, abstract, authors,
folded as the ingest folds them) are staged once. The column is kept from the target where the
target's vector already is the document of those words, else built in Python as the ingest builds
it (bot/storage/pg_search.py). After the writes, every paper's vector is compared with the
server's own ``paperbot_document`` of its words (migration 0001): another implementation of the
same document, so a wrong build, a stale vector or a paper without words is found and named.
"""

from __future__ import annotations

import json

import asyncpg

from bot.domain.text import folded_words
from bot.storage.pg_copy import streamed
from bot.storage.pg_search import search_document

CHUNK = 2000
WORDS = "paperbot_copy_words"  # the staged papers' folded words, by pk
# The server's own document of those words, built once as they are staged (it is about 120 us of
# the server's CPU a paper): read by the keep-where-right update and by the check after the writes.
_DOCUMENT = f"{WORDS}.document"


async def build_search_column(connection: asyncpg.Connection, stage: str) -> None:
    """Fill the staged papers' search column (the target's vector where it is right, else built)."""
    await connection.execute(
        f"CREATE TEMP TABLE {WORDS} (pk bigint PRIMARY KEY, title text, abstract text, authors text, "
        "document tsvector GENERATED ALWAYS AS (paperbot_document(title, abstract, authors)) STORED) "
        "ON COMMIT DROP"
    )
    # A cursor (a named portal: the COPYs between its fetches leave it open) over the staged papers.
    cursor = await connection.cursor(f"SELECT pk, title, abstract, authors FROM {stage}")
    while rows := await cursor.fetch(CHUNK):
        folded = [
            (row[0], folded_words(row[1]), folded_words(row[2]), folded_words(" ".join(json.loads(row[3]))))
            for row in rows
        ]
        await connection.copy_to_table(
            WORDS, source=streamed(folded), columns=["pk", "title", "abstract", "authors"], format="text"
        )
    # Kept where it is right: building is most of a paper's copy cost, and a re-run changes few.
    await connection.execute(
        f"UPDATE {stage} AS s SET search = p.search FROM papers AS p, {WORDS} "
        f"WHERE p.pk = s.pk AND {WORDS}.pk = s.pk AND p.search = {_DOCUMENT}"
    )
    await connection.execute(
        "CREATE TEMP TABLE paperbot_copy_search (pk bigint, search tsvector) ON COMMIT DROP"
    )
    cursor = await connection.cursor(
        f"SELECT w.pk, w.title, w.abstract, w.authors FROM {stage} AS s JOIN {WORDS} AS w USING (pk) "
        "WHERE s.search IS NULL"
    )
    while rows := await cursor.fetch(CHUNK):
        documents = [(row[0], search_document(row[1], row[2], row[3])) for row in rows]
        await connection.copy_to_table(
            "paperbot_copy_search", source=streamed(documents), columns=["pk", "search"], format="text"
        )
    await connection.execute(
        f"UPDATE {stage} AS s SET search = d.search FROM paperbot_copy_search AS d WHERE d.pk = s.pk"
    )


async def first_wrong_search(connection: asyncpg.Connection) -> str:
    """The first paper (by pk) whose search column is not the document of its staged words, named
    by its id and pk; "" when every paper's is."""
    row = await connection.fetchrow(
        f"SELECT papers.pk, papers.id FROM papers LEFT JOIN {WORDS} ON {WORDS}.pk = papers.pk "
        f"WHERE {WORDS}.pk IS NULL OR papers.search IS DISTINCT FROM {_DOCUMENT} ORDER BY papers.pk LIMIT 1"
    )
    return "" if row is None else f"paper {row['id']} (pk {row['pk']})"
