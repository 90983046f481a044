"""Read the full-text indexes once after start-up, so the first searches and "more like this" calls
find their pages in the OS page cache instead of waiting on the disk.

Why: a call's CPU is the same either way, but its wall time is not. On a store the OS has not read
since a reboot (or since other files pushed it out), each first call reads its words' doclist
pages one at a time, one page per word and index segment, about 0.2 ms each on this machine's
disk: "more like this" at 106k papers read ~100 pages (430 KiB) a call and its first calls waited
tens of milliseconds where the cached store answers in 6 ms (docs/performance.md, "Sixth session:
similar"). The pages a call needs are scattered over the whole index (rare words sit beside common
ones), so the only way to have them in memory before the call is to read the index; reading it in
order costs a fraction of reading it a page at a time.

What is read, in this order (small and used by every call first): ``term_docs`` (word document
counts), each index's segment directory (``_idx``), column sizes (``_docsize``), then the index
data (``_data``): 104 of the 530 MiB store file at 106k papers, in 2-3 s and 0.4 CPU s (1M papers:
11 s, 2.6 CPU s, 1.1 GiB of page cache). The cost is
OS page cache (the kernel's read-ahead around the index's scattered pages brings in 330 MiB there;
memory the kernel takes back under pressure, not the bot's RSS: this connection keeps 2 MiB of
its own) and those seconds of disk reading, beside serving. Each chunk of rows is its own statement
(its own read transaction), so the write-ahead log can still be checkpointed while it runs; it
stops between chunks when asked. ``search.warm_indexes = false`` turns it off.
SQLite only: PostgreSQL keeps its own buffer cache on the server.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

# Tables read whole, in this order; a rowid table in chunks (its rows in rowid order).
_SMALL_TABLES = ("term_docs", "papers_fts_idx", "titles_fts_idx")
_ROWID_TABLES = ("papers_fts_docsize", "titles_fts_docsize", "papers_fts_data", "titles_fts_data")
CHUNK_ROWS = 2_000  # about 8 MiB of index pages a statement
_OWN_CACHE_KIB = 2_048  # the pages pass through; the OS keeps them, this connection need not


@dataclass(frozen=True, slots=True)
class Warmed:
    rows: int
    seconds: float
    finished: bool  # false: stopped before the end (the bot was stopping)

    def describe(self) -> str:
        state = "read" if self.finished else "partly read (stopped)"
        return f"full-text indexes {state} into the OS page cache: {self.rows:,} rows in {self.seconds:.1f} s"


def read_indexes(path: str, stopped: Callable[[], bool]) -> Warmed:
    """Read the indexes of the store at ``path`` (blocking); ``stopped`` is asked before each chunk."""
    started = time.perf_counter()
    rows = 0
    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, check_same_thread=False)) as connection:
        connection.execute(f"PRAGMA cache_size = -{_OWN_CACHE_KIB}")
        for table in _SMALL_TABLES:
            if stopped():
                return Warmed(rows, time.perf_counter() - started, False)
            # count(*) visits every leaf page of the table's B-tree.
            rows += int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        for table in _ROWID_TABLES:
            after = None
            while True:
                if stopped():
                    return Warmed(rows, time.perf_counter() - started, False)
                # Rows are stored in rowid order: the next chunk continues from the last rowid read.
                sql = (
                    f"SELECT max(id), count(*) FROM (SELECT id FROM {table} WHERE id > ? ORDER BY id LIMIT ?)"
                )
                last, count = connection.execute(
                    sql, (-(2**63) if after is None else after, CHUNK_ROWS)
                ).fetchone()
                if not count:
                    break
                rows += int(count)
                after = int(last)
    return Warmed(rows, time.perf_counter() - started, True)


async def warm_indexes(path: str) -> Warmed:
    """Read the store's full-text indexes at ``path`` once, on a thread and a connection of their
    own (the event loop and the store's readers stay free). Cancelled, it stops after its chunk."""
    stop = threading.Event()
    try:
        return await asyncio.to_thread(read_indexes, path, stop.is_set)
    finally:
        stop.set()
