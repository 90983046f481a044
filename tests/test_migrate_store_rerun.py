"""A second ``migrate-store`` run carries every change of the SQLite store over, not only new rows
(the fourth fresh-eyes trial, finding 5: a retitled paper, a paused member, a removed follow, an
edited digest and a ``/privacy forget`` stayed as they were in PostgreSQL, "verified")."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import time
from pathlib import Path

import asyncpg
import pytest

from bot.services.papers import PaperService
from bot.storage.database import Database
from bot.storage.digests import DigestRepository
from bot.storage.follows import FOREVER, FollowRepository
from bot.storage.postgres import PostgresDatabase
from bot.storage.privacy import PrivacyRepository
from tests.migrate_store_fixtures import NOW, postgres_server, postgres_url, run, sqlite_store

__all__ = ["postgres_server", "postgres_url", "sqlite_store"]
FIXTURE = Path(__file__).parent / "fixtures" / "hf_daily_2024-07-31.json"
RENAMED = "ThinK v2: RENAMED after the first migrate run"


def _retitled_file(folder: Path) -> Path:
    """The same day's list again, as a later fetch brings it: a new title and upvotes for one paper."""
    listed = json.loads(FIXTURE.read_text())
    listed[0]["paper"]["title"] = listed[0]["title"] = RENAMED
    listed[0]["paper"]["upvotes"] = 999
    path = folder / "update.json"
    path.write_text(json.dumps(listed))
    return path


async def _pause_member(db: Database) -> None:
    await FollowRepository(db.connection).update_member(10, paused_until=FOREVER)


async def _remove_follow(db: Database) -> None:
    follows = FollowRepository(db.connection)
    [follow] = await follows.follows(11)
    assert await follows.remove_follow(11, follow.id) is not None


async def _edit_digest(db: Database) -> None:
    digests = DigestRepository(db.connection)
    config = await digests.config(1, 101)
    assert config is not None
    await digests.save_config(replace(config, post_time=time(18, 30), max_papers=5), NOW)
    assert await digests.set_paused(1, 101, True, "holidays", NOW)


async def _forget_member(db: Database) -> None:
    await PrivacyRepository(db.connection).forget(10)


Change = Callable[[Database], Awaitable[None]]
SCENARIOS: dict[str, tuple[Change, list[str]]] = {
    "paused member": (_pause_member, ["members"]),
    "removed follow": (_remove_follow, ["follows"]),
    "edited digest": (_edit_digest, ["digest_configs"]),
    "privacy forget": (
        _forget_member,
        ["members", "follows", "alerts", "alert_batches", "member_guilds", "digest_admins"],
    ),
}


async def _change(path: Path, change: Change) -> None:
    db = await Database.open(path)
    try:
        async with db.transaction():
            await change(db)
    finally:
        await db.close()


def _columns(path: Path, table: str) -> str:
    with sqlite3.connect(path) as connection:
        return ", ".join(f'"{row[1]}"' for row in connection.execute(f'PRAGMA table_info("{table}")'))


def _sqlite_rows(path: Path, table: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return sorted(tuple(row) for row in connection.execute(f'SELECT * FROM "{table}"'))


async def _postgres_rows(url: str, table: str, columns: str) -> list[tuple[object, ...]]:
    """The rows of ``table`` in PostgreSQL, the SQLite store's ``columns`` in its order."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(f'SELECT {columns} FROM "{table}"')
    finally:
        await connection.close()
    return sorted(tuple(row) for row in rows)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_a_rerun_brings_changed_and_removed_rows_over(
    sqlite_store: Path, postgres_url: str, scenario: str
) -> None:
    change, tables = SCENARIOS[scenario]
    assert run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)[0] == 0
    before = {table: _sqlite_rows(sqlite_store, table) for table in tables}
    asyncio.run(_change(sqlite_store, change))
    assert any(_sqlite_rows(sqlite_store, table) != before[table] for table in tables)  # it changed

    code, output = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 0, output
    for table in tables:
        columns = _columns(sqlite_store, table)
        in_postgres = asyncio.run(_postgres_rows(postgres_url, table, columns))
        assert in_postgres == _sqlite_rows(sqlite_store, table), table


def test_forgotten_member_leaves_postgresql_too(sqlite_store: Path, postgres_url: str) -> None:
    assert run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)[0] == 0
    asyncio.run(_change(sqlite_store, _forget_member))
    code, output = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 0 and "follows: 2 rows, 0 added, 0 changed, 1 removed" in output
    assert "alerts: 6 rows, 0 added, 0 changed, 3 removed" in output
    for table in ("follows", "alerts", "members", "member_guilds"):
        assert (10,) not in asyncio.run(_postgres_rows(postgres_url, table, "user_id")), table


async def _title_and_search(url: str) -> tuple[str, list[str]]:
    store = await PostgresDatabase.open(url)
    try:
        async with store.connection.execute("SELECT title FROM papers WHERE id = '2407.21018'") as cursor:
            row = await cursor.fetchone()
        service = PaperService(store, clock=lambda: NOW)
        await service.start()
        hits = await service.search.search("renamed", limit=5)
        suggested = await service.search.suggest("ThinK v2: RENA")
        return str(row[0]) if row else "", [h.paper.id for h in hits] + [s.title for s in suggested]
    finally:
        await store.close()


def test_a_retitled_paper_is_retitled_and_found_by_its_new_title(
    sqlite_store: Path, postgres_url: str, tmp_path: Path
) -> None:
    assert run("ingest", str(FIXTURE), "--db", str(sqlite_store))[0] == 0
    assert run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)[0] == 0
    update = _retitled_file(tmp_path)
    assert run("ingest", str(update), "--date", "2024-07-31", "--db", str(sqlite_store))[0] == 0

    code, output = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 0 and "papers: 72 rows, 0 added, 1 changed, 0 removed" in output
    title, found = asyncio.run(_title_and_search(postgres_url))
    assert title == RENAMED
    assert "2407.21018" in found and RENAMED in found  # the search column and the title table follow
