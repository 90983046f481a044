"""Two rows that swapped a unique value in the SQLite store between two ``migrate-store`` runs (two
papers whose arxiv ids were mixed up and put right, two follows of one member whose keywords
traded places): the re-run made PostgreSQL hold the first row's new value while the second still
held it, so the server refused it ("duplicate key value violates unique constraint") and the copy
failed. The re-run applies now, and PostgreSQL ends exactly equal to the file. The matrix covers
every unique constraint of the PostgreSQL schema: one added without a case here fails the test."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from bot.storage.database import Database
from bot.storage.follows import FollowRepository
from tests.migrate_store_fixtures import NOW, postgres_server, postgres_url, run, sqlite_store

__all__ = ["postgres_server", "postgres_url", "sqlite_store"]

# (table, the unique columns) -> the two rows (by key) whose values swap.
SWAPS = {
    ("papers", ("id",)): ("pk", (1, 2)),
    ("papers", ("arxiv_id",)): ("pk", (3, 4)),
    ("follows", ("user_id", "canonical")): ("id", (1, 4)),  # user 10's "federated" and "diffusion"
}


async def _second_follow_and_arxiv_ids(path: Path) -> None:
    """A member following two keywords, and two papers with arxiv ids (the bundled sample has none)."""
    db = await Database.open(path)
    try:
        async with db.transaction():
            await FollowRepository(db.connection).add_follow(10, "diffusion", "diffusion", NOW)
    finally:
        await db.close()
    with sqlite3.connect(path) as connection:
        for pk in (3, 4):
            connection.execute("UPDATE papers SET arxiv_id = ? WHERE pk = ?", (f"2401.0000{pk}", pk))
    connection.close()


def _swap(path: Path, table: str, columns: tuple[str, ...], key: str, rows: tuple[int, int]) -> None:
    """Swap the last of ``columns`` between the two rows (through a free value: SQLite checks each row)."""
    column = columns[-1]
    with sqlite3.connect(path) as connection:
        first, second = (
            connection.execute(f'SELECT "{column}" FROM "{table}" WHERE "{key}" = ?', (row,)).fetchone()[0]
            for row in rows
        )
        assert first != second
        for row, value in ((rows[0], "swapping"), (rows[1], first), (rows[0], second)):
            connection.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE "{key}" = ?', (value, row))
    connection.close()


def _sqlite_rows(path: Path, table: str) -> tuple[list[str], list[tuple[object, ...]]]:
    with sqlite3.connect(path) as connection:
        columns = [str(row[1]) for row in connection.execute(f'PRAGMA table_info("{table}")')]
        rows = sorted(tuple(row) for row in connection.execute(f'SELECT * FROM "{table}"'))
    connection.close()
    return columns, rows


async def _postgres_rows(url: str, table: str, columns: list[str]) -> list[tuple[object, ...]]:
    connection = await asyncpg.connect(url)
    try:
        selected = ", ".join(f'"{c}"' for c in columns)
        return sorted(tuple(row) for row in await connection.fetch(f'SELECT {selected} FROM "{table}"'))
    finally:
        await connection.close()


async def _unique_constraints(url: str) -> set[tuple[str, tuple[str, ...]]]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT i.indrelid::regclass::text, array_agg(a.attname::text ORDER BY "
            "array_position(i.indkey::int2[], a.attnum)) FROM pg_index i "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
            "JOIN pg_class c ON c.oid = i.indrelid AND c.relnamespace = current_schema()::regnamespace "
            "WHERE i.indisunique AND NOT i.indisprimary GROUP BY i.indexrelid, i.indrelid"
        )
    finally:
        await connection.close()
    return {(str(table), tuple(columns)) for table, columns in rows}


def test_the_matrix_covers_every_unique_constraint(sqlite_store: Path, postgres_url: str) -> None:
    assert run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)[0] == 0
    assert asyncio.run(_unique_constraints(postgres_url)) == set(SWAPS)


@pytest.mark.parametrize(("table", "columns"), list(SWAPS), ids=[f"{t}.{'+'.join(c)}" for t, c in SWAPS])
def test_two_rows_that_swapped_a_unique_value_are_applied_exactly(
    sqlite_store: Path, postgres_url: str, table: str, columns: tuple[str, ...]
) -> None:
    asyncio.run(_second_follow_and_arxiv_ids(sqlite_store))
    assert run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)[0] == 0
    key, rows = SWAPS[(table, columns)]
    _swap(sqlite_store, table, columns, key, rows)

    code, output = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)

    assert code == 0, output
    assert f"{table}: " in output and "every table's digest matches" in output
    names, in_file = _sqlite_rows(sqlite_store, table)
    assert asyncio.run(_postgres_rows(postgres_url, table, names)) == in_file
