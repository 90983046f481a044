"""Bring a PostgreSQL store to exactly an SQLite store's state (``paperbot migrate-store``).

Every run makes the target equal to the source, whatever it held before: rows new to the source
are added, changed rows are updated (a retitled paper, a paused follow, an edited digest), rows
gone from the source are removed (a removed follow, a member's ``/privacy forget``). So a second
run after the community kept using the SQLite store carries everything over, not only new rows.

- The source is read in one read transaction: a snapshot, consistent even while a process writes.
- The target is written in one transaction: every table, the identity counters (ALTER ... RESTART
  is transactional, setval is not) and the check. A failure at any step, or a check that finds a
  difference, leaves the target as it was.
- Each table's source rows are streamed into a temporary table (COPY), then applied with set
  statements: delete what the source lacks, move aside unique values another row takes (two rows
  that swapped one: bot/storage/transfer_swaps.py), upsert the rest, writing only rows that differ.
- The papers' search column is built from each source row, as the ingest builds it, and checked
  on its own against the server's paperbot_document (bot/storage/transfer_search.py);
  title_search follows it by the triggers of migration 0024.
- The check: a digest of each table's rows (bot/storage/row_digest.py), computed from the source
  while it is read and from the target after the writes, inside the transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import aiosqlite
import asyncpg

from bot.storage.connection import quoted_identifier as _quoted
from bot.storage.database import Database
from bot.storage.pg_copy import streamed
from bot.storage.postgres import PostgresDatabase
from bot.storage.row_digest import RowDigest, TableShape, canonical_for
from bot.storage.transfer_checks import first_difference, foreign_claims
from bot.storage.transfer_search import build_search_column, first_wrong_search
from bot.storage.transfer_swaps import make_room

CHUNK = 2000
# SQLite's own index tables (FTS5 and its shadow tables) and the sandbox marker: nothing to copy.
_NOT_DATA = ("papers_fts", "titles_fts", "paperbot_sandbox")
# How long the copy waits for another transaction's lock on a target table before giving up.
LOCK_TIMEOUT = "20s"


@dataclass(frozen=True, slots=True)
class TableCopy:
    table: str
    source_rows: int
    added: int
    changed: int
    removed: int
    target_rows: int
    source_digest: str
    target_digest: str
    first_difference: str = ""  # the key of the first row that differs, as column=value
    wrong_search: str = ""  # papers: the first paper whose search column is not its words' document

    @property
    def verified(self) -> bool:
        same_rows = self.source_digest == self.target_digest and self.source_rows == self.target_rows
        return same_rows and not self.wrong_search


class TargetInUse(RuntimeError):
    """Bots run on the target: their claims there are live, so a copy would overwrite their work."""


class CopyFailed(RuntimeError):
    """The server refused a step of the copy (the transaction rolled back: nothing changed)."""


class CopyNotVerified(RuntimeError):
    """The target's rows differ from the source's after the writes; nothing was committed."""

    def __init__(self, results: list[TableCopy]) -> None:
        wrong = [r for r in results if not r.verified]
        super().__init__(f"{len(wrong)} table(s) differ")
        self.results = results


# What is done: (a table, its rows read of its rows) while reading; then (WRITING, rows written of
# all rows) and (CHECKING, rows checked of all rows), a table's rows counted once its statements end.
Progress = Callable[[str, int, int], None]
WRITING = "writing the changes"
CHECKING = "checking the copy"
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class _Staged:
    shape: TableShape
    stage: str
    written: tuple[str, ...]  # the columns written: the compared ones, and papers' search column
    source_rows: int
    source_digest: str


async def copy_store(
    source: Database,
    target: PostgresDatabase,
    progress: Progress,
    *,
    clock: Clock | None = None,
) -> list[TableCopy]:
    """Make ``target`` hold exactly the data of ``source`` (both at the newest schema)."""
    try:
        return await _copy(source, target, progress, clock)
    except asyncpg.LockNotAvailableError as exc:
        raise CopyFailed(
            f"a table of the PostgreSQL database stayed locked by another process for {LOCK_TIMEOUT} "
            f"({exc}); stop the processes using it and run again"
        ) from exc
    except asyncpg.PostgresError as exc:
        raise CopyFailed(f"PostgreSQL refused the copy: {exc}") from exc


async def _copy(
    source: Database, target: PostgresDatabase, progress: Progress, clock: Clock | None
) -> list[TableCopy]:
    async with _snapshot(source) as reader, target.transaction(), target.acquired() as connection:
        counts = await _source_tables(reader)
        order = await _parents_first(connection, list(counts))
        await connection.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        # Locked before the claims are read: no bot takes a claim or writes a row until this commits.
        await connection.execute(f"LOCK TABLE {', '.join(_quoted(t) for t in order)} IN EXCLUSIVE MODE")
        # The server's time by default: the bots wrote their claims' expiry in it (StoreClock).
        now = clock() if clock is not None else await connection.fetchval("SELECT clock_timestamp()")
        claims = await foreign_claims(reader, connection, now)
        if claims:
            raise TargetInUse(claims)
        staged = []
        for index, table in enumerate(order):
            shape = await _shape(reader, connection, table)
            staged.append(
                await _stage(reader, connection, shape, f"paperbot_copy_{index}", counts[table], progress)
            )
        # A table's statements are one each (no row-by-row count): each phase moves on by a table's
        # rows as its statements end, so a 1M-paper move shows where it is after the read too.
        weights = {s.shape.table: max(1, s.source_rows) for s in staged}
        writing = _Phase(WRITING, 2 * sum(weights.values()), progress)
        removed = {}
        for s in reversed(staged):
            removed[s.shape.table] = await _remove_gone(connection, s)
            writing.advance(weights[s.shape.table])
        written = {}
        for s in staged:
            await make_room(connection, s.shape, s.stage)  # rows that swapped a unique value
            written[s.shape.table] = await _upsert(connection, s)
            writing.advance(weights[s.shape.table])
        await _advance_identities(reader, connection, order)
        checking = _Phase(CHECKING, sum(weights.values()), progress)
        results = []
        for s in staged:
            target_digest, target_rows = await _target_digest(connection, s.shape)
            difference = ""
            if target_digest != s.source_digest:
                key = await first_difference(reader, connection, s.shape)
                difference = ", ".join(f"{c}={v!r}" for c, v in zip(s.shape.key, key or (), strict=False))
            added, changed = written[s.shape.table]
            wrong_search = await first_wrong_search(connection) if s.shape.table == "papers" else ""
            results.append(
                TableCopy(
                    s.shape.table,
                    s.source_rows,
                    added,
                    changed,
                    removed[s.shape.table],
                    target_rows,
                    s.source_digest,
                    target_digest,
                    difference,
                    wrong_search,
                )
            )
            checking.advance(weights[s.shape.table])
        if not all(result.verified for result in results):
            raise CopyNotVerified(results)  # rolls the transaction back
        return results


class _Phase:
    """One phase's progress: shown at 0 when it starts, then moved on as its parts end."""

    def __init__(self, name: str, total: int, progress: Progress) -> None:
        self.name, self.total, self._progress, self.done = name, total, progress, 0
        progress(name, 0, total)

    def advance(self, amount: int) -> None:
        self.done += amount
        self._progress(self.name, self.done, self.total)


@asynccontextmanager
async def _snapshot(source: Database) -> AsyncIterator[aiosqlite.Connection]:
    """One read transaction on the source: every table as of one moment, whatever writes meanwhile."""
    reader = source.reader()
    await reader.execute("BEGIN")
    try:
        yield reader
    finally:
        await reader.execute("ROLLBACK")


async def data_tables(source: Database) -> list[str]:
    """The tables of the SQLite store that migrate-store copies."""
    return list(await _source_tables(source.reader()))


async def _source_tables(reader: aiosqlite.Connection) -> dict[str, int]:
    """Table -> row count of the SQLite store's data tables (the first read: the snapshot's moment)."""
    async with reader.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ) as cursor:
        names = [row[0] for row in await cursor.fetchall() if not row[0].startswith(_NOT_DATA)]
    counts = {}
    for name in names:
        async with reader.execute(f"SELECT count(*) FROM {_quoted(name)}") as cursor:
            row = await cursor.fetchone()
        counts[name] = int(row[0]) if row else 0
    return counts


async def _parents_first(connection: asyncpg.Connection, tables: list[str]) -> list[str]:
    edges = await connection.fetch(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c "
        "WHERE c.contype = 'f'"
    )
    ordered: list[str] = []
    pending = sorted(tables)
    while pending:
        ready = [t for t in pending if all(p in ordered or p not in tables for c, p in edges if c == t)]
        if not ready:  # a cycle (none today): the rest as listed
            ready = pending
        ordered += ready
        pending = [t for t in pending if t not in ready]
    return ordered


async def _shape(reader: aiosqlite.Connection, connection: asyncpg.Connection, table: str) -> TableShape:
    async with reader.execute(f"PRAGMA table_info({_quoted(table)})") as cursor:
        in_source = [str(row[1]) for row in await cursor.fetchall()]
    types = {
        row[0]: row[1]
        for row in await connection.fetch(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = $1",
            table,
        )
    }
    missing = [column for column in in_source if column not in types]
    if missing:
        raise RuntimeError(
            f"the PostgreSQL store has no column {table}.{missing[0]}: is it older than the file?"
        )
    key = [
        row[0]
        for row in await connection.fetch(
            "SELECT a.attname FROM pg_index i "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
            "WHERE i.indrelid = $1::regclass AND i.indisprimary "
            "ORDER BY array_position(i.indkey::int2[], a.attnum)",
            _quoted(table),
        )
    ]
    if not key:
        raise RuntimeError(f"the PostgreSQL table {table} has no primary key: cannot tell its rows apart")
    return TableShape(
        table,
        tuple(in_source),
        tuple(key),
        tuple(canonical_for(types[column]) for column in in_source),
        frozenset(column for column in in_source if types[column] == "text"),
    )


async def _stage(
    reader: aiosqlite.Connection,
    connection: asyncpg.Connection,
    shape: TableShape,
    stage: str,
    total: int,
    progress: Progress,
) -> _Staged:
    """The source's rows of one table in a temporary table of the target, and their digest."""
    written = shape.columns + (("search",) if shape.table == "papers" else ())
    names = ", ".join(_quoted(c) for c in written)
    await connection.execute(
        f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {names} FROM {_quoted(shape.table)} WITH NO DATA"
    )
    digest = RowDigest(shape)
    selected = ", ".join(_quoted(c) for c in shape.columns)
    progress(shape.table, 0, total)
    async with reader.execute(
        f"SELECT {selected} FROM {_quoted(shape.table)} ORDER BY {shape.order_by(postgres=False)}"
    ) as cursor:
        while chunk := [tuple(row) for row in await cursor.fetchmany(CHUNK)]:
            digest.add(chunk)
            await connection.copy_to_table(
                stage, source=streamed(chunk), columns=list(shape.columns), format="text"
            )
            progress(shape.table, digest.rows, total)
    if shape.table == "papers":
        await build_search_column(connection, stage)
    return _Staged(shape, stage, written, digest.rows, digest.hexdigest())


def _same_key(shape: TableShape, left: str, right: str) -> str:
    return " AND ".join(f"{left}.{_quoted(c)} = {right}.{_quoted(c)}" for c in shape.key)


async def _remove_gone(connection: asyncpg.Connection, staged: _Staged) -> int:
    """Delete the target's rows the source no longer has; how many there were (counted before any
    delete, as a paper's delete trigger also takes its listings and author rows)."""
    table, stage = _quoted(staged.shape.table), staged.stage
    kept = f"SELECT 1 FROM {stage} AS s WHERE {_same_key(staged.shape, 's', 't')}"
    gone = f"{table} AS t WHERE NOT EXISTS ({kept})"
    count = int(await connection.fetchval(f"SELECT count(*) FROM {gone}"))
    if count:
        await connection.execute(f"DELETE FROM {gone}")
    return count


async def _upsert(connection: asyncpg.Connection, staged: _Staged) -> tuple[int, int]:
    """Insert the source's rows the target lacks and update those that differ: (added, changed)."""
    table = _quoted(staged.shape.table)
    names = ", ".join(_quoted(c) for c in staged.written)
    others = [c for c in staged.written if c not in staged.shape.key]
    key = ", ".join(_quoted(c) for c in staged.shape.key)
    if others:
        assignments = ", ".join(f"{_quoted(c)} = excluded.{_quoted(c)}" for c in others)
        current = ", ".join(f"{table}.{_quoted(c)}" for c in others)
        incoming = ", ".join(f"excluded.{_quoted(c)}" for c in others)
        on_conflict = f"DO UPDATE SET {assignments} WHERE ROW({current}) IS DISTINCT FROM ROW({incoming})"
    else:
        on_conflict = "DO NOTHING"
    row = await connection.fetchrow(
        f"WITH written AS (INSERT INTO {table} ({names}) SELECT {names} FROM {staged.stage} "
        f"ON CONFLICT ({key}) {on_conflict} RETURNING (xmax = 0) AS added) "
        "SELECT count(*) FILTER (WHERE added), count(*) FILTER (WHERE NOT added) FROM written"
    )
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def _advance_identities(
    reader: aiosqlite.Connection, connection: asyncpg.Connection, tables: list[str]
) -> None:
    """Identity counters continue after the copied ids (rows went in with explicit ids) and after
    any id SQLite's AUTOINCREMENT already handed out; never backwards."""
    async with reader.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    ) as cursor:
        has_sequences = await cursor.fetchone() is not None
    used: dict[str, int] = {}
    if has_sequences:
        async with reader.execute("SELECT name, seq FROM sqlite_sequence") as cursor:
            used = {str(row[0]): int(row[1]) for row in await cursor.fetchall()}
    identities = await connection.fetch(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES'"
    )
    for table, column in identities:
        if table not in tables:
            continue
        sequence = await connection.fetchval("SELECT pg_get_serial_sequence($1, $2)", _quoted(table), column)
        last, called = await connection.fetchrow(f"SELECT last_value, is_called FROM {sequence}")
        now_next = last + 1 if called else last
        highest = await connection.fetchval(
            f"SELECT coalesce(max({_quoted(column)}), 0) FROM {_quoted(table)}"
        )
        wanted = max(now_next, int(highest) + 1, used.get(table, 0) + 1)
        if wanted != now_next:
            await connection.execute(
                f"ALTER TABLE {_quoted(table)} ALTER COLUMN {_quoted(column)} RESTART WITH {int(wanted)}"
            )


async def _target_digest(connection: asyncpg.Connection, shape: TableShape) -> tuple[str, int]:
    digest = RowDigest(shape)
    columns = ", ".join(_quoted(c) for c in shape.columns)
    query = f"SELECT {columns} FROM {_quoted(shape.table)} ORDER BY {shape.order_by(postgres=True)}"
    cursor = await connection.cursor(query)
    while records := await cursor.fetch(CHUNK):
        digest.add(records)
    return digest.hexdigest(), digest.rows
