"""``python -m bench migrate``: what ``migrate-store`` costs on a corpus of N papers: the first copy
into an empty PostgreSQL database, a re-run with nothing changed (every row read, staged and
compared on both sides, none written), and a re-run after 1% of the papers were retitled."""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

from bench.cache import database
from bench.postgres import named_database
from bot.storage.database import Database
from bot.storage.postgres import PostgresDatabase
from bot.storage.transfer import TableCopy, copy_store


def _snapshot_copy(cached: Path, path: Path) -> None:
    """The cached corpus copied (SQLite's backup: whole and consistent), so the bench may change it."""
    with sqlite3.connect(cached) as source, sqlite3.connect(path) as copy:
        source.backup(copy)


def _retitle_one_percent(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute(
            "UPDATE papers SET title = title || ' (revised)' WHERE pk % 100 = 0"
        ).rowcount


async def _timed(label: str, source: Database, target: PostgresDatabase) -> None:
    started = time.perf_counter()
    results: list[TableCopy] = await copy_store(source, target, lambda *_: None)
    elapsed = time.perf_counter() - started
    rows = sum(r.source_rows for r in results)
    papers = next(r for r in results if r.table == "papers")
    written = sum(r.added + r.changed + r.removed for r in results)
    print(
        f"{label:<28} {elapsed:7.1f} s  {rows / elapsed:9,.0f} source rows/s  ({rows:,} rows in "
        f"{len(results)} tables, {papers.source_rows:,} papers; {written:,} rows written)"
    )


async def run(n: int, server: str) -> None:
    cached = await database(n)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "store.db"
        _snapshot_copy(cached, path)
        target_url = await named_database(server, f"migrate_{n}", fresh=True)
        source = await Database.open(path)
        target = await PostgresDatabase.open(target_url)
        try:
            await _timed("first copy", source, target)
            await _timed("re-run, nothing changed", source, target)
            retitled = _retitle_one_percent(path)
            await _timed(f"re-run, {retitled:,} retitled", source, target)
        finally:
            await target.close()
            await source.close()
