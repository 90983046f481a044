from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.storage.database import Database, Migration, SchemaTooNew, bundled_migrations


async def _version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


async def test_empty_database_gets_every_migration_and_pragmas(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "new.db")
    try:
        assert await db.schema_version() == len(bundled_migrations())
        async with db.connection.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"
        async with db.connection.execute("PRAGMA foreign_keys") as cur:
            assert (await cur.fetchone())[0] == 1
        async with db.connection.execute("PRAGMA busy_timeout") as cur:
            assert (await cur.fetchone())[0] == 5000
    finally:
        await db.close()


async def test_existing_database_only_gets_pending_migrations(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    first = bundled_migrations()[:1]
    db = await Database.open(path, migrations=first)
    await db.close()
    extra = Migration(len(bundled_migrations()) + 1, "9999_extra.sql", "CREATE TABLE extra (x INTEGER);")
    db = await Database.open(path, migrations=[*bundled_migrations(), extra])
    try:
        assert await db.schema_version() == extra.number
    finally:
        await db.close()


async def test_failed_migration_leaves_previous_version_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "db.db"
    db = await Database.open(path)
    await db.close()
    before = await _version(path)
    broken = [
        *bundled_migrations(),
        Migration(before + 1, "0002_ok.sql", "CREATE TABLE fine (x INTEGER);"),
        Migration(before + 2, "0003_bad.sql", "CREATE TABLE oops (x INTEGER);\nTHIS IS NOT SQL;"),
    ]
    with pytest.raises(sqlite3.OperationalError):
        await Database.open(path, migrations=broken)
    assert await _version(path) == before
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "fine" not in tables and "oops" not in tables


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    with pytest.raises(SchemaTooNew, match="999"):
        await Database.open(path)


def test_statements_keep_trigger_bodies_whole() -> None:
    sql = (
        "CREATE TABLE a (x);\n-- note\n"
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  SELECT 1;\n  SELECT 2;\nEND;\n"
    )
    assert len(Migration(1, "0001_a.sql", sql).statements()) == 2
