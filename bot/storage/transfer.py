"""Copy a SQLite store into a PostgreSQL one (``paperbot migrate-store``): every table, row for row.

Idempotent: each row goes in with ``ON CONFLICT DO NOTHING`` on its table's key, so a second run
(or a run after an interrupted one) copies only what is missing and nothing twice. Tables are
copied parents first (the order PostgreSQL's foreign keys give), in chunks of one transaction
each; the papers' search column is built from each copied row, and identity counters are moved
past the copied ids so new rows never collide with them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from bot.domain.text import folded_words
from bot.storage.database import Database
from bot.storage.pg_search import search_document
from bot.storage.postgres import PostgresDatabase

CHUNK = 2000
# SQLite's own index tables (FTS5 and its shadow tables) and the sandbox marker: nothing to copy.
_NOT_DATA = ("papers_fts", "titles_fts", "paperbot_sandbox")


@dataclass(frozen=True, slots=True)
class TableCopy:
    table: str
    source_rows: int
    copied: int  # rows new to the target this run
    target_rows: int

    @property
    def verified(self) -> bool:
        return self.source_rows == self.target_rows


Progress = Callable[[str, int, int], None]  # table, rows done, rows in table


async def source_tables(source: Database) -> dict[str, int]:
    """Table -> row count of the SQLite store's data tables."""
    async with source.connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ) as cursor:
        names = [row[0] for row in await cursor.fetchall()]
    counts = {}
    for name in names:
        if name.startswith(_NOT_DATA):
            continue
        async with source.connection.execute(f'SELECT count(*) FROM "{name}"') as cursor:
            row = await cursor.fetchone()
        counts[name] = int(row[0]) if row else 0
    return counts


async def copy_store(source: Database, target: PostgresDatabase, progress: Progress) -> list[TableCopy]:
    """Copy every data table of ``source`` into ``target`` (both at the newest schema)."""
    counts = await source_tables(source)
    order = await _parents_first(target, list(counts))
    results = []
    for table in order:
        columns = await _shared_columns(source, target, table)
        copied = await _copy_table(source, target, table, columns, counts[table], progress)
        results.append(TableCopy(table, counts[table], copied, await _count(target, table)))
    await _advance_identities(target)
    return results


async def _parents_first(target: PostgresDatabase, tables: list[str]) -> list[str]:
    async with target.connection.execute(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c "
        "WHERE c.contype = 'f'"
    ) as cursor:
        edges = [(row[0], row[1]) for row in await cursor.fetchall()]
    ordered: list[str] = []
    pending = sorted(tables)
    while pending:
        ready = [t for t in pending if all(p in ordered or p not in tables for c, p in edges if c == t)]
        if not ready:  # a cycle (none today): copy the rest as listed
            ready = pending
        ordered += ready
        pending = [t for t in pending if t not in ready]
    return ordered


async def _shared_columns(source: Database, target: PostgresDatabase, table: str) -> list[str]:
    async with source.connection.execute(f'PRAGMA table_info("{table}")') as cursor:
        in_source = [row[1] for row in await cursor.fetchall()]
    async with target.connection.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ?",
        (table,),
    ) as cursor:
        in_target = {row[0] for row in await cursor.fetchall()}
    missing = [column for column in in_source if column not in in_target]
    if missing:
        raise RuntimeError(
            f"the PostgreSQL store has no column {table}.{missing[0]}: is it older than the file?"
        )
    return in_source


async def _copy_table(
    source: Database, target: PostgresDatabase, table: str, columns: list[str], total: int, progress: Progress
) -> int:
    names = ", ".join(f'"{column}"' for column in columns)
    placeholders = ", ".join("?" * len(columns))
    insert = f'INSERT INTO "{table}" ({names}) VALUES ({placeholders}) ON CONFLICT DO NOTHING'
    done = copied = 0
    progress(table, 0, total)
    async with source.reader().execute(f'SELECT {names} FROM "{table}"') as cursor:
        while chunk := list(await cursor.fetchmany(CHUNK)):
            before = await _count(target, table)
            async with target.transaction():
                await target.connection.executemany(insert, [tuple(row) for row in chunk])
                if table == "papers":
                    await _index_papers(target, columns, chunk)
            copied += await _count(target, table) - before
            done += len(chunk)
            progress(table, done, total)
    return copied


async def _index_papers(target: PostgresDatabase, columns: list[str], chunk: list[sqlite3.Row]) -> None:
    """The search column of the copied papers, from the same folded words SQLite indexed (the
    document built here, as the ingest builds it: the server only reads it)."""
    at = {name: index for index, name in enumerate(columns)}
    documents = [
        (
            row[at["pk"]],
            search_document(
                folded_words(row[at["title"]]),
                folded_words(row[at["abstract"]]),
                folded_words(" ".join(json.loads(row[at["authors"]]))),
            ),
        )
        for row in chunk
    ]
    rows_sql = target.dialect.json_rows("int", "text")
    await target.connection.execute(
        f"UPDATE papers SET search = rows.c1::tsvector FROM {rows_sql} AS rows "
        "WHERE papers.pk = rows.c0 AND papers.search = ''::tsvector",
        (json.dumps(documents, ensure_ascii=False),),
    )


async def _count(target: PostgresDatabase, table: str) -> int:
    async with target.connection.execute(f'SELECT count(*) FROM "{table}"') as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def _advance_identities(target: PostgresDatabase) -> None:
    """Identity columns continue after the copied ids (rows were inserted with explicit ids)."""
    async with target.connection.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES'"
    ) as cursor:
        identities = [(row[0], row[1]) for row in await cursor.fetchall()]
    async with target.transaction():
        for table, column in identities:
            await target.connection.execute(
                f"SELECT setval(pg_get_serial_sequence(?, ?), "
                f'coalesce((SELECT max("{column}") FROM "{table}"), 0) + 1, false)',
                (table, column),
            )
