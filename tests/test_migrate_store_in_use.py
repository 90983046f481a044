"""``migrate-store`` copies a snapshot of the SQLite store and refuses stores in use: a bot on the
SQLite store (its folder claim) unless --while-running, and bots running on the PostgreSQL target
(their live claims there). The trial found a copy taken table by table while a bot wrote."""

from __future__ import annotations

import asyncio
import fcntl
import os
import socket
import sqlite3
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from bot import cli
from bot.storage.database import Database
from bot.storage.folder_claim import claim_for_use, holders
from bot.storage.leases import LeaseRepository
from bot.storage.postgres import MIGRATION_LOCK, PostgresDatabase
from bot.storage.shard_claims import ShardClaimRepository
from bot.storage.transfer import Progress, TableCopy, copy_store
from tests.migrate_store_fixtures import postgres_server, postgres_url, run, sqlite_store, whole_store

__all__ = ["postgres_server", "postgres_url", "sqlite_store"]


async def _title(url: str, pk: int) -> str:
    store = await PostgresDatabase.open(url)
    try:
        async with store.connection.execute("SELECT title FROM papers WHERE pk = ?", (pk,)) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else ""
    finally:
        await store.close()


async def _copy_while_a_writer_writes(path: Path, url: str) -> list[str]:
    """Copy while another connection commits, between two tables' reads, a change to a table
    already read (a listing removed) and to one not read yet (the same paper retitled)."""
    source = await Database.open(path)
    target = await PostgresDatabase.open(url)
    wrote: list[str] = []

    def progress(table: str, done: int, total: int) -> None:
        if table == "papers" and not wrote:
            with sqlite3.connect(path) as writer:
                writer.execute("UPDATE papers SET title = 'RETITLED MID-COPY' WHERE pk = 1")
                writer.execute("DELETE FROM listings WHERE paper_pk = 1")
            wrote.append(table)

    try:
        results = await copy_store(source, target, progress)
    finally:
        await target.close()
        await source.close()
    assert wrote
    return [r.table for r in results if not r.verified]


def test_the_copy_is_a_snapshot_while_a_writer_commits(sqlite_store: Path, postgres_url: str) -> None:
    with sqlite3.connect(sqlite_store) as connection:
        [(title,)] = connection.execute("SELECT title FROM papers WHERE pk = 1").fetchall()
        [(listed,)] = connection.execute("SELECT count(*) FROM listings WHERE paper_pk = 1").fetchall()
    assert listed == 1
    assert asyncio.run(_copy_while_a_writer_writes(sqlite_store, postgres_url)) == []
    # The store as it was when the copy began: the old title with its listing, not half of each.
    assert asyncio.run(_title(postgres_url, 1)) == title
    code, output = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 0 and "listings: 68 rows, 0 added, 0 changed, 1 removed" in output
    assert asyncio.run(_title(postgres_url, 1)) == "RETITLED MID-COPY"  # the next run carries it over


def test_a_store_a_bot_uses_is_refused_unless_asked(sqlite_store: Path, postgres_url: str) -> None:
    bot = asyncio.run(claim_for_use(sqlite_store))  # what every paperbot process holds while it runs
    try:
        code, output = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
        assert code == 2 and f"{sqlite_store} is in use" in output and "--while-running" in output
        assert asyncio.run(whole_store(postgres_url)) == {"(sequences)": []}  # not even migrated
        code, output = run(
            "migrate-store", "--from", str(sqlite_store), "--to", postgres_url, "--while-running"
        )
        assert code == 0 and "papers: 69 rows, 69 added" in output
    finally:
        bot.release()
    code, output = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 0 and "papers: 69 rows, 0 added, 0 changed, 0 removed" in output


async def _bot_runs_on(url: str) -> None:
    store = await PostgresDatabase.open(url)
    try:
        async with store.transaction():
            claims = ShardClaimRepository(store.connection)
            await claims.take(["all"], 0, "host-b:4242:f00d", datetime.now(UTC), timedelta(minutes=10))
    finally:
        await store.close()


def test_a_target_bots_run_on_is_refused_with_what_to_stop(sqlite_store: Path, postgres_url: str) -> None:
    asyncio.run(_bot_runs_on(postgres_url))
    before = asyncio.run(whole_store(postgres_url))
    code, output = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 2 and "in use by running paperbot processes" in output
    assert "process host-b:4242:f00d holds shard all" in output and "Stop every `paperbot run`" in output
    assert asyncio.run(whole_store(postgres_url)) == before


async def _stopped_bot_held(path: Path) -> None:
    """The SQLite bot was stopped a moment ago: its lease on the source schedule still runs."""
    db = await Database.open(path)
    try:
        async with db.transaction():
            await LeaseRepository(db.connection).acquire(
                "sources", "host-a:1:cafe", datetime.now(UTC), timedelta(hours=1)
            )
    finally:
        await db.close()


def test_claims_copied_from_the_store_do_not_block_a_rerun(sqlite_store: Path, postgres_url: str) -> None:
    asyncio.run(_stopped_bot_held(sqlite_store))
    assert run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)[0] == 0
    code, output = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 0 and "leases: 1 rows, 0 added, 0 changed, 0 removed" in output


def test_a_bot_starting_during_the_copy_waits_for_it(
    sqlite_store: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []

    async def copy_and_look(
        source: Database, target: PostgresDatabase, progress: Progress
    ) -> list[TableCopy]:
        descriptor = os.open(sqlite_store.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:  # the claim a bot takes on start (bot/storage/folder_claim.py), without waiting
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
            seen.append(False)
        except BlockingIOError:
            seen.append(True)
        finally:
            os.close(descriptor)
        return await copy_store(source, target, progress)

    monkeypatch.setattr(cli, "copy_store", copy_and_look)
    assert run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)[0] == 0
    assert seen == [True]  # it would have waited
    asyncio.run(claim_for_use(sqlite_store)).release()  # and starts once it is done (no wait here)


async def _paperbot(*args: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOT_", "DISCORD_"))}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _until(condition: Callable[[], bool], process: asyncio.subprocess.Process) -> None:
    """Until ``condition`` holds (the first migrate-store reached it), while ``process`` still runs."""
    async with asyncio.timeout(60):
        while not condition():
            assert process.returncode is None, await process.communicate()
            await asyncio.sleep(0.05)


async def _two_migrate_stores_at_once(source: Path, url: str) -> tuple[int, int, str, int]:
    """The first is held while copying (the target's migration lock is taken elsewhere), the second
    starts then: its exit code and words, and the first's pid and exit code once let go."""
    blocker = await asyncpg.connect(url)
    try:
        await blocker.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        first = await _paperbot("migrate-store", "--from", str(source), "--to", url)
        await _until(lambda: any(h.pid == first.pid and h.exclusive for h in holders(source.parent)), first)
        second = await _paperbot("migrate-store", "--from", str(source), "--to", url)
        out, err = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode is not None
    finally:
        await blocker.close()  # its session's advisory lock goes with it
    await asyncio.wait_for(first.communicate(), 120)
    assert first.returncode is not None
    return second.returncode, (out + err).decode(), first.pid, first.returncode


def test_a_second_migrate_store_is_refused_naming_the_one_copying(
    sqlite_store: Path, postgres_url: str
) -> None:
    """It said "a paperbot process (a running bot or command) uses a store": the operator looked for
    a bot to stop, and --while-running (which it suggested) would have copied beside the first."""
    code, said, first_pid, first_code = asyncio.run(_two_migrate_stores_at_once(sqlite_store, postgres_url))
    assert code == 2, said
    assert (
        f"{sqlite_store} is in use: another `paperbot migrate-store` (pid {first_pid} on "
        f"{socket.gethostname()}) is copying a store in {sqlite_store.parent} now. Wait until it has finished"
    ) in " ".join(said.split())
    assert "running bot" not in said and "--while-running" not in said and "Traceback" not in said
    assert first_code == 0  # the first went on and finished


async def _restore_while_a_migrate_store_copies(source: Path, backup: Path, url: str) -> tuple[int, str, int]:
    """A restore started while migrate-store copies the store (held on the target's migration
    lock): its exit code and words, and the copying process's pid."""
    blocker = await asyncpg.connect(url)
    try:
        await blocker.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        first = await _paperbot("migrate-store", "--from", str(source), "--to", url)
        await _until(lambda: any(h.pid == first.pid and h.exclusive for h in holders(source.parent)), first)
        restore = await _paperbot("restore", str(backup), "--db", str(source))
        out, err = await asyncio.wait_for(restore.communicate(), 60)
        assert restore.returncode is not None
    finally:
        await blocker.close()
    await asyncio.wait_for(first.communicate(), 120)
    return restore.returncode, (out + err).decode(), first.pid


def test_a_restore_while_migrate_store_copies_is_refused_naming_the_copy(
    sqlite_store: Path, postgres_url: str, tmp_path: Path
) -> None:
    """The same naming as a second migrate-store's (the folder's claims in /proc/locks), untested
    for restore: it said "a running bot or paperbot command", and there was none to stop."""
    backup = tmp_path / "backups" / "before.db"
    backup.parent.mkdir()
    assert run("backup", str(backup), "--db", str(sqlite_store))[0] == 0
    code, said, copying = asyncio.run(
        _restore_while_a_migrate_store_copies(sqlite_store, backup, postgres_url)
    )
    assert (code, " ".join(said.split())) == (
        1,
        f"error: {sqlite_store} is in use: another `paperbot migrate-store` (pid {copying} on "
        f"{socket.gethostname()}) is copying a store in {sqlite_store.parent} now. Wait until it has "
        "finished, then restore.",
    )
    assert not sqlite_store.with_name("community.db.before-restore").exists()  # nothing was changed
