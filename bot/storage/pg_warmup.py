"""Read what PostgreSQL searches need once after start-up, in the background, so the first searches
after the database server started (or after other work pushed the store out of its memory) do not
each wait on the disk.

Why: a search's server CPU is the same either way, but its wall time is not. Straight after a
server start, the first 40 searches of ``bench search`` at a million papers read 116,708 blocks
(912 MiB) of the papers table's rows from disk, 3,202 (25 MiB) of the search index, 842 of the
primary key and 378 of TOAST (``pg_statio_user_tables``/``_indexes`` before and after;
docs/performance.md "Seventh session: PostgreSQL search after a start"): the rows are what costs.
A newest-first walk tests the newest papers' rows one after another (their search vectors are kept
in the row, migration 0019); a GIN bitmap visits matches scattered over the whole table. So the
rows are read whole, the newest first, after the indexes every search passes through.

What is read, in this order (``WARMED``): the primary key, the search index, the word counts and
their key (one-word counts), the title index (autocomplete), the papers' rows from the newest back,
then the title rows, then the papers' TOAST (abstracts and author lists, which a page of results
reads for its ten papers, the newest first): 3.8 of the 4.9 GB store at a million papers.

How: with ``pg_prewarm`` (an extension shipped with PostgreSQL) when it is installed in the
database or this role may create it, each chunk straight into shared buffers, up to half of
``shared_buffers`` (``BUFFER_SHARE``), the rest into the OS page cache only (its ``read`` mode), so
a server with a small ``shared_buffers`` does not evict what it read first to hold what it reads
last. Otherwise plain reads: each chunk of the tables' rows by a TID range scan (through shared
buffers, which the OS page cache keeps behind); neither an index nor TOAST can be read whole that
way, so the first searches read those pages themselves (a thirtieth of what they read above).
Each chunk is one statement of ``CHUNK_BLOCKS`` blocks on a connection of its own (the pool's
connections stay free for commands), so a stop ends the reading within a chunk.

One process reads at a time: a session advisory lock (``WARM_LOCK``), released with the
connection. Processes sharing the store find it held and leave the reading to the holder; one that
starts later reads again, which costs the server little (blocks already in shared buffers are found,
not read). ``search.warm_indexes = false`` turns it off.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import asyncpg

from bot.storage.postgres import SESSION_SETTINGS

# (relation, newest first): the order that helps first searches most (module docstring).
WARMED: tuple[tuple[str, bool], ...] = (
    ("papers_pkey", False),
    ("papers_search", False),
    ("term_docs_pkey", False),
    ("term_docs", False),
    ("title_search_words", False),
    ("papers", True),  # appended in pk order: its last blocks hold the newest papers
    ("title_search", True),
)
# Then the TOAST of the papers' abstracts and author lists, newest first: each page of results
# reads its ten papers' from there (about 9 blocks a search once the rest is in memory).
TOAST_OF = "papers"
CHUNK_BLOCKS = 1_024  # 8 MiB a statement at the default block size
BUFFER_SHARE = 0.5  # of shared_buffers, filled by pg_prewarm before it reads into the OS cache only
WARM_LOCK = 7_123_560_002  # MIGRATION_LOCK's neighbour (bot/storage/postgres.py)
CLOSE_SECONDS = 10.0  # then the connection is dropped without waiting for the server's answer
APPLICATION_NAME = "paperbot store warm-up"  # what pg_stat_activity shows for the reading connection

PREWARM = "pg_prewarm"
PLAIN = "plain reads"


@dataclass(frozen=True, slots=True)
class PgWarmed:
    bytes_read: int
    seconds: float
    finished: bool  # false: another process holds the warm-up lock, so this one read nothing
    how: str  # PREWARM or PLAIN, and why when plain

    def describe(self) -> str:
        if not self.finished:
            return "PostgreSQL store not read ahead: another paperbot process is reading it"
        return (
            f"PostgreSQL store read ahead ({self.how}): {self.bytes_read / 2**20:,.0f} MiB "
            f"in {self.seconds:.1f} s"
        )


async def warm_store(url: str) -> PgWarmed:
    """Read what searches need from the store at ``url`` (module docstring). Cancelled (the bot
    stopping), the statement in hand is cancelled and the connection dropped, lock and all."""
    connection = await asyncpg.connect(
        url, server_settings={**SESSION_SETTINGS, "application_name": APPLICATION_NAME}
    )
    try:
        return await _warm(connection)
    finally:
        # Cancelled mid-statement, asyncpg asks the server to cancel it; closing waits for that
        # (a statement waiting for a lock would otherwise wait on with nobody to read its answer),
        # then drops the connection, the warm-up lock with it.
        await connection.close(timeout=CLOSE_SECONDS)


async def _warm(connection: asyncpg.Connection) -> PgWarmed:
    started = time.perf_counter()
    if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", WARM_LOCK):
        return PgWarmed(0, time.perf_counter() - started, False, "")
    how = await _prewarm_available(connection)
    block_size = int(await connection.fetchval("SELECT current_setting('block_size')::int"))
    buffer_blocks = (
        int(
            await connection.fetchval("SELECT pg_size_bytes(current_setting('shared_buffers'))")
            * BUFFER_SHARE
        )
        // block_size
    )
    read = 0
    for relation, oid, kind, newest_first in await _relations(connection):
        # Sized when its turn comes (it may have grown meanwhile; sizing locks it, as reading does).
        size = int(await connection.fetchval("SELECT pg_relation_size($1::oid)", oid))
        for first, last in _chunks(size // block_size, newest_first):
            if how == PREWARM:
                mode = "buffer" if read < buffer_blocks else "read"
                sql = "SELECT pg_prewarm($1::oid::regclass, $2, 'main', $3, $4)"
                read += int(await connection.fetchval(sql, oid, mode, first, last))
            elif kind == "r":  # an index or TOAST cannot be read whole by a query
                read += await _read_rows(connection, relation, first, last)
    return PgWarmed(read * block_size, time.perf_counter() - started, True, how)


async def _relations(connection: asyncpg.Connection) -> list[tuple[str, int, str, bool]]:
    """(name, oid, kind, newest first) of what is read, in order: WARMED's relations the
    store has (an older schema may lack some), then the TOAST of TOAST_OF."""
    found = []
    for relation, newest_first in WARMED:
        row = await connection.fetchrow(
            "SELECT oid, relkind::text FROM pg_class WHERE oid = to_regclass($1)", relation
        )
        if row is not None:
            found.append((relation, int(row[0]), str(row[1]), newest_first))
    toast = await connection.fetchrow(
        "SELECT t.oid, t.relkind::text FROM pg_class AS c "
        "JOIN pg_class AS t ON t.oid = c.reltoastrelid WHERE c.oid = to_regclass($1)",
        TOAST_OF,
    )
    if toast is not None:
        found.append((f"TOAST of {TOAST_OF}", int(toast[0]), str(toast[1]), True))
    return found


def _chunks(blocks: int, newest_first: bool) -> list[tuple[int, int]]:
    """(first, last) block numbers of each chunk of a relation of ``blocks`` blocks, in order."""
    chunks = [(first, min(blocks, first + CHUNK_BLOCKS) - 1) for first in range(0, blocks, CHUNK_BLOCKS)]
    return chunks[::-1] if newest_first else chunks


async def _read_rows(connection: asyncpg.Connection, table: str, first: int, last: int) -> int:
    """Read blocks ``first``..``last`` of ``table`` (one of WARMED's) through shared buffers: a
    TID range scan visits those blocks and no others."""
    await connection.fetchval(
        f"SELECT count(*) FROM {table} WHERE ctid >= format('(%s,0)', $1::bigint)::tid "
        "AND ctid < format('(%s,0)', $2::bigint)::tid",
        first,
        last + 1,
    )
    return last - first + 1


async def _prewarm_available(connection: asyncpg.Connection) -> str:
    """PREWARM when pg_prewarm is installed in this database or this role could create it, else
    PLAIN with the reason (for the log)."""
    if await connection.fetchval("SELECT 1 FROM pg_extension WHERE extname = 'pg_prewarm'"):
        return PREWARM
    try:
        await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
    except asyncpg.InsufficientPrivilegeError:
        return f"{PLAIN}: pg_prewarm is not installed and this role may not create it"
    except asyncpg.PostgresError as exc:  # not shipped with this server, or another process raced us
        if await connection.fetchval("SELECT 1 FROM pg_extension WHERE extname = 'pg_prewarm'"):
            return PREWARM
        return f"{PLAIN}: pg_prewarm cannot be created ({exc})"
    return PREWARM
