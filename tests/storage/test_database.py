from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.storage.database import (
    Database,
    ForeignDatabase,
    Migration,
    SchemaTooNew,
    StoreMissing,
    bundled_migrations,
)


async def _version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


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


async def test_another_programs_database_is_refused_unwritten(tmp_path: Path) -> None:
    path = tmp_path / "foreign.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(ForeignDatabase, match="another program, not a paperbot store"):
        await Database.open(path)
    with pytest.raises(ForeignDatabase):
        await Database.open_readonly(path)
    assert path.read_bytes() == before
    assert _names(tmp_path) == ["foreign.db"]  # no -wal, no -shm


async def test_an_empty_existing_file_is_a_new_store(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    db = await Database.open(path, create=False)
    await db.close()
    assert await _version(path) == len(bundled_migrations())


async def test_without_create_a_missing_store_is_not_made(tmp_path: Path) -> None:
    path = tmp_path / "folder" / "x.db"
    with pytest.raises(StoreMissing, match=r"no paperbot store at .*x\.db \(paperbot ingest creates it\)"):
        await Database.open(path, create=False)
    assert _names(tmp_path) == []


def _aiosqlite_threads() -> list[str]:
    import threading

    return [t.name for t in threading.enumerate() if "_connection_worker_thread" in t.name]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs a /proc where SQLite cannot make files")
async def test_a_failed_open_leaves_no_connection_thread_behind() -> None:
    before = _aiosqlite_threads()
    with pytest.raises(sqlite3.OperationalError):
        await Database.open("/proc/paperbot-test.db")
    # A thread left running would report to the event loop after asyncio.run closed it.
    assert _aiosqlite_threads() == before


def test_two_migrations_with_one_number_stop_the_start_instead_of_skipping_one(tmp_path: Path) -> None:
    """Two branches that each took the next free number: only one step would run while the
    store's version said both had (a column missing at the first query)."""
    (tmp_path / "0001_papers.sql").write_text("CREATE TABLE a (x);")
    (tmp_path / "0002_votes.sql").write_text("CREATE TABLE b (x);")
    (tmp_path / "0002_schedule_from.sql").write_text("CREATE TABLE c (x);")
    with pytest.raises(RuntimeError, match="two migrations are numbered 0002: schedule_from and votes"):
        bundled_migrations(folder=tmp_path)
    (tmp_path / "0002_schedule_from.sql").unlink()
    (tmp_path / "0002_votes.postgres.sql").write_text("CREATE TABLE b (x text);")
    assert [m.name for m in bundled_migrations("postgres", folder=tmp_path)] == [
        "0001_papers.sql",
        "0002_votes.postgres.sql",
    ]


async def test_two_processes_starting_together_on_a_new_store_migrate_it_once(tmp_path: Path) -> None:
    # Two `paperbot run` processes started at once on a store that does not exist yet: both read
    # version 0, one migrates; the other must find that out under the write lock, not run every
    # migration again ("table papers already exists", and that process exits).
    path = tmp_path / "new.db"
    first, second = [await Database.open(path, migrations=[]) for _ in range(2)]
    try:
        everything = bundled_migrations()
        versions = await asyncio.gather(first.migrate(everything), second.migrate(everything))
        assert versions == [everything[-1].number] * 2
        assert await second.schema_version() == everything[-1].number
    finally:
        await first.close()
        await second.close()
