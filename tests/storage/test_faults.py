"""Storage faults: another writer holding the database, a full disk, and online backups."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.errors import DiskFull, StorageUnavailable
from bot.services.papers import PaperService
from bot.storage.database import Database, WriteWait, wait_for_writes


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    """SQLite only: these faults (a file lock, a full disk, an online file backup) are SQLite's.
    PostgreSQL's server answers them itself (row locks, its own disk, pg_dump)."""
    db = await Database.open(tmp_path / "test.db")
    yield db
    await db.close()


def _hold_write_lock(path: Path) -> tuple[sqlite3.Connection, threading.Event]:
    other = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other, threading.Event()


async def test_a_short_lock_by_another_writer_is_waited_out(tmp_path: Path, sample_papers: list) -> None:
    path = tmp_path / "shared.db"
    db = await Database.open(path)
    try:
        other, _ = _hold_write_lock(path)
        threading.Timer(0.2, lambda: other.execute("COMMIT")).start()  # the other process finishes
        service = PaperService(db)
        counts = await service.ingest(sample_papers)
        assert counts.new == 69
        other.close()
    finally:
        await db.close()


async def test_a_lock_beyond_the_busy_timeout_is_a_clear_error_and_writes_nothing(
    tmp_path: Path, sample_papers: list
) -> None:
    path = tmp_path / "locked.db"
    db = await Database.open(path, busy_timeout_ms=100)
    other, _ = _hold_write_lock(path)
    try:
        with pytest.raises(StorageUnavailable, match="busy with another writer"):
            await PaperService(db).ingest(sample_papers)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (await PaperService(db).stats()).papers == 0
    await db.close()


async def test_a_full_disk_is_a_clear_error_and_the_store_stays_as_it_was_marked_unwritable(
    tmp_path: Path, sample_papers: list
) -> None:
    """Marked for `paperbot health` from the first refused write until a write goes through."""
    db = await Database.open(tmp_path / "full.db")
    service = PaperService(db)
    await service.ingest(sample_papers[:10])
    assert db.writes.unwritable is None
    async with db.connection.execute("PRAGMA page_count") as cursor:
        pages = (await cursor.fetchone())[0]
    await db.writer.execute(f"PRAGMA max_page_count = {pages + 2}")  # the "disk" is nearly full
    with pytest.raises(DiskFull, match=r"disk .* is full"):
        await service.ingest(sample_papers[10:])
    assert (await service.stats()).papers == 10
    assert await service.search.search("federated learning")  # still readable and searchable
    refused = db.writes.unwritable
    assert refused is not None and "disk holding the database is full" in refused.reason
    with pytest.raises(DiskFull):  # still full: the spell keeps its start
        await service.ingest(sample_papers[10:])
    assert db.writes.unwritable == refused
    async with db.transaction():  # a transaction that only reads needs no room and proves none
        pass
    assert db.writes.unwritable == refused

    await db.writer.execute(f"PRAGMA max_page_count = {pages * 100}")  # space freed
    await service.ingest(sample_papers[10:])
    assert db.writes.unwritable is None
    assert (await service.stats()).papers == len(sample_papers)
    await db.close()


async def test_online_backup_while_open(tmp_path: Path, loaded_service: PaperService) -> None:
    target = tmp_path / "backup.db"
    await loaded_service.database.backup(target)
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM papers").fetchone() == (69,)
        assert copy.execute("PRAGMA user_version").fetchone()[0] >= 4
        assert (
            copy.execute("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'federated'").fetchone()[0]
            > 0
        )


# A backup process SIGKILLed by its own progress hook half-way through the copy: the fault comes
# at a chosen page, not at a time, and nothing in the process gets to clean up (as in a power cut).
_KILLED_BACKUP = """
import asyncio, os, signal, sys
from bot.storage import database

database.BACKUP_STEP_PAGES = 1

def die_half_way(status: int, remaining: int, total: int) -> None:
    if remaining <= total // 2:
        os.kill(os.getpid(), signal.SIGKILL)

async def main() -> None:
    db = await database.Database.open(sys.argv[1])
    try:
        await db.backup(sys.argv[2], progress=die_half_way)
    finally:
        await db.close()

asyncio.run(main())
"""


async def test_a_backup_killed_mid_copy_leaves_the_previous_file_and_no_half_copy(
    tmp_path: Path, sample_papers: list[Any]
) -> None:
    store = tmp_path / "store.db"
    db = await Database.open(store)
    await PaperService(db).ingest(sample_papers)
    target = tmp_path / "nightly.db"
    await db.backup(target)
    previous = target.read_bytes()
    await db.close()

    command = [sys.executable, "-c", _KILLED_BACKUP, str(store), str(target)]
    killed = await asyncio.to_thread(subprocess.run, command, check=False, timeout=120)

    assert killed.returncode == -9
    assert target.read_bytes() == previous  # the old backup is whole, under its own name
    leftovers = _names_beside(target)
    assert leftovers and all(".partial-" in name for name in leftovers)  # never named like a backup
    target.unlink()  # a backup never replaces a file: the old one is moved out of the way first
    db = await Database.open(store)
    try:
        await db.backup(tmp_path / "nightly.db")  # the next run clears what the killed one left
    finally:
        await db.close()
    assert not _names_beside(target)
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM papers").fetchone() == (69,)


def _names_beside(target: Path) -> list[str]:
    """Hidden files named after ``target`` in its folder (what a backup writes before the rename)."""
    return [p.name for p in target.parent.iterdir() if p.name.startswith(f".{target.name}")]


async def test_reads_never_queue_behind_a_waiting_write(tmp_path: Path, sample_papers: list) -> None:
    """Another process holds the write lock and this process's own write waits for it: reads
    (search, stats) are still answered, from the read connection, before the write gets through."""
    path = tmp_path / "busy.db"
    db = await Database.open(path, busy_timeout_ms=120_000)
    try:
        service = PaperService(db)
        await service.ingest(sample_papers[:10])
        other, _ = _hold_write_lock(path)
        writing = asyncio.create_task(service.ingest(sample_papers[10:]))
        while not db.writing:  # noqa: ASYNC110 (the write takes the lock within a few loop turns)
            await asyncio.sleep(0)
        async with asyncio.timeout(60):  # a guard against hanging, not a timing assertion
            assert (await service.stats()).papers == 10
            assert await service.search.search("federated learning")
        assert not writing.done()  # the write really was waiting all along
        other.execute("COMMIT")
        other.close()
        assert (await writing).new == 59
        assert (await service.stats()).papers == 69  # the reader sees the new commit at once
    finally:
        await db.close()


async def test_a_write_outside_a_transaction_is_refused(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "stray.db")
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await db.connection.execute("DELETE FROM papers")
    finally:
        await db.close()


async def test_a_write_that_must_wait_says_so_first_then_waits_within_its_budget(
    tmp_path: Path, sample_papers: list
) -> None:
    """How a command's write behaves while another process writes: it starts at once when it can;
    otherwise it calls ``before_waiting`` (the interaction defers), then waits at most its budget."""
    path = tmp_path / "budget.db"
    db = await Database.open(path)
    try:
        service = PaperService(db)
        deferred: list[str] = []

        async def defer() -> None:
            deferred.append("thinking")

        wait_for_writes(WriteWait(defer, budget=0.2))
        await service.ingest(sample_papers[:5])  # the writer is free: no deferral
        assert deferred == []

        other, _ = _hold_write_lock(path)
        with pytest.raises(StorageUnavailable, match="busy"):
            await service.ingest(sample_papers[5:10])  # held throughout: deferred, then "busy"
        assert deferred == ["thinking"]

        async def defer_as_the_other_finishes() -> None:
            await defer()
            other.execute("COMMIT")  # the other process commits while this write waits

        wait_for_writes(WriteWait(defer_as_the_other_finishes, budget=60))
        assert (await service.ingest(sample_papers[5:10])).new == 5
        assert deferred == ["thinking", "thinking"]
        other.close()
    finally:
        wait_for_writes(None)
        await db.close()


@pytest.mark.parametrize("who", ["background job", "command"])
async def test_a_write_cancelled_while_waiting_for_the_lock_leaves_the_next_write_working(
    tmp_path: Path, sample_papers: list, monkeypatch: pytest.MonkeyPatch, who: str
) -> None:
    """A write cancelled while its BEGIN IMMEDIATE is with the writer's thread (the bot shutting
    down, an interaction given up): the thread runs that BEGIN anyway, and it begins if the other
    process has just let go. The next write must save, not fail with "cannot start a transaction
    within a transaction"."""
    path = tmp_path / "cancelled.db"
    db = await Database.open(path)
    service = PaperService(db)
    queued, run = asyncio.Event(), asyncio.Event()
    begins = 0
    execute = db.writer.execute

    async def in_the_thread(sql: str) -> Any:
        await run.wait()  # the writer's thread gets to it only now
        return await execute(sql)

    def watched(sql: str, *args: Any) -> Any:
        nonlocal begins
        if sql != "BEGIN IMMEDIATE":
            return execute(sql, *args)
        begins += 1
        if begins > 1:
            return execute(sql, *args)
        queued.set()
        # Like aiosqlite: the statement runs whether or not whoever awaits it is still there.
        return asyncio.shield(in_the_thread(sql))

    other, _ = _hold_write_lock(path)
    try:
        if who == "command":

            async def defer() -> None:
                pass

            wait_for_writes(WriteWait(defer, budget=60))
            other.execute("COMMIT")  # free: a command's write starts at once
        monkeypatch.setattr(db.writer, "execute", watched)
        write = asyncio.create_task(service.ingest(sample_papers[:3]))
        await queued.wait()  # its BEGIN IMMEDIATE is queued with the writer's thread
        write.cancel()
        if who == "background job":
            other.execute("COMMIT")  # the other process lets go just then
        run.set()
        with pytest.raises(asyncio.CancelledError):
            await write
        wait_for_writes(None)
        assert (await service.ingest(sample_papers[3:6])).new == 3
        assert (await service.stats()).papers == 3  # the cancelled write saved nothing
        assert not db.writer.in_transaction
    finally:
        wait_for_writes(None)
        other.close()
        await db.close()
