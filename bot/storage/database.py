"""Connection set-up (one writer, read connections beside it) and schema migrations."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import aiosqlite
from aiosqlite.context import Result

from bot.domain.ids import title_id_from_key
from bot.domain.people import PersonFollow, family_key, fold_name
from bot.domain.text import search_text, title_key, word_set
from bot.errors import DiskFull, StorageUnavailable
from bot.storage import stoppable
from bot.storage.connection import SQLITE, Dialect
from bot.storage.durable_file import clear_stale_partials, finish, partial_path
from bot.storage.folder_claim import FolderClaim, claim_for_use
from bot.storage.sandbox_marker import MARKER_TABLE
from bot.storage.write_health import WriteHealth

log = logging.getLogger(__name__)

BUSY = "The database is busy with another writer: nothing was saved. Try again shortly."
READER_CACHE_KIB = 8192
# Pages an online backup copies per step (its progress callback runs between steps); the steps
# run back to back in one call on the writer's thread, so no pause between them.
BACKUP_STEP_PAGES = 1024
# How often a write waiting for another process's lock tries again (see Database._try_begin).
WRITE_POLL_SECONDS = 0.005
_MIGRATION_NAME = re.compile(r"(?P<number>\d{4})_(?P<name>[a-z0-9_]+)(?P<backend>\.postgres)?\.sql")


class SchemaTooNew(RuntimeError):
    """The database was written by a newer paperbot than this one."""


class ForeignDatabase(RuntimeError):
    """A database another program made: paperbot must not migrate it into a store."""

    def __init__(self, path: str | Path, kind: str = "an SQLite") -> None:
        super().__init__(f"{path} is {kind} database of another program, not a paperbot store")


class StoreMissing(RuntimeError):
    """A command that only reads was pointed at a store that does not exist (none is made)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(f"no paperbot store at {path} (paperbot ingest creates it)")


@dataclass(frozen=True, slots=True)
class Migration:
    number: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        """Complete SQL statements (triggers keep their inner semicolons)."""
        statements: list[str] = []
        pending = ""
        for line in self.sql.splitlines(keepends=True):
            pending += line
            if sqlite3.complete_statement(pending):
                if pending.strip():
                    statements.append(pending.strip())
                pending = ""
        if pending.strip() and not all(
            part.strip().startswith("--") or not part.strip() for part in pending.splitlines()
        ):
            raise ValueError(f"migration {self.name} ends with an incomplete statement")
        return statements


def bundled_migrations(backend: str = "sqlite", folder: Traversable | None = None) -> list[Migration]:
    """The numbered migrations for ``backend`` ("sqlite" or "postgres"): one list, where a
    ``NNNN_name.postgres.sql`` beside ``NNNN_name.sql`` is PostgreSQL's spelling of that step (a
    step without one is portable SQL both run)."""
    folder = folder or resources.files("bot.storage") / "migrations"
    chosen: dict[int, Migration] = {}
    names: dict[int, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        match = _MIGRATION_NAME.fullmatch(entry.name)
        if not match:
            continue
        number, for_postgres = int(match["number"]), match["backend"] is not None
        # Two branches that each took the next free number would otherwise apply only one of the
        # two steps (the store's version says both ran): refuse to start instead.
        if names.setdefault(number, match["name"]) != match["name"]:
            raise RuntimeError(
                f"two migrations are numbered {number:04d}: {names[number]} and {match['name']}"
            )
        if for_postgres and backend != "postgres":
            continue
        if number in chosen and not for_postgres:
            continue  # PostgreSQL's own file already chosen
        chosen[number] = Migration(number, entry.name, entry.read_text("utf-8"))
    found = [chosen[number] for number in sorted(chosen)]
    numbers = [m.number for m in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..N without gaps, found {numbers}")
    return found


def readonly_uri(target: Path) -> str:
    """A URI that reads ``target`` without writing beside it (see Database.open_readonly): a
    file with no ``-wal`` is opened ``immutable`` (works from a read-only mount, makes no
    ``-shm``/``-wal``); one with a ``-wal`` uses it, read-only."""
    if not target.is_file():
        raise FileNotFoundError(f"{target} does not exist")
    uri = target.resolve().as_uri() + "?mode=ro"
    if not Path(f"{target}-wal").exists():
        uri += "&immutable=1"
    return uri


_writing: ContextVar[Database | None] = ContextVar("paperbot_writing", default=None)


@dataclass(frozen=True, slots=True)
class WriteWait:
    """How a task's writes wait when the writer is busy (another process's ingest, or this
    process's own background job): ``before_waiting`` runs once first (a Discord interaction
    defers, so it is answered within Discord's 3 s), then the write waits at most ``budget``
    seconds before giving up with StorageUnavailable ("busy, try again")."""

    before_waiting: Callable[[], Awaitable[None]]
    budget: float


_write_wait: ContextVar[WriteWait | None] = ContextVar("paperbot_write_wait", default=None)


def wait_for_writes(policy: WriteWait | None) -> None:
    """Set how the current task (and what it starts) waits for the writer."""
    _write_wait.set(policy)


class RoutedConnection:
    """What repositories execute on: the writer inside ``Database.transaction()``, a read
    connection everywhere else. WAL lets readers see the last commit while a writer (this process's
    or another's) holds the lock, so a read never queues behind a write."""

    def __init__(self, database: Database) -> None:
        self._database = database

    @property
    def dialect(self) -> Dialect:
        return SQLITE

    def _target(self) -> aiosqlite.Connection:
        database = self._database
        return database.writer if _writing.get() is database else database.reader()

    def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Result[aiosqlite.Cursor]:
        return self._target().execute(sql, parameters)

    async def fetch_all(self, sql: str, parameters: Iterable[Any] | None = None) -> list[Any]:
        # One hand-off to the connection's thread instead of three (execute, fetch, close): under
        # load each hand-off is a wake-up of that thread and of the event loop.
        target = self._target()
        if target is self._database.writer:  # a statement of a transaction is never cut short
            return list(await target.execute_fetchall(sql, parameters))
        return await stoppable.fetch_all(target, sql, parameters)  # given up, it stops

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> aiosqlite.Cursor:
        return await self._target().executemany(sql, parameters)

    @property
    def total_changes(self) -> int:
        return self._target().total_changes

    @property
    def in_transaction(self) -> bool:
        return self._target().in_transaction


class Database:
    """One writer connection for whole-use-case transactions, and read connections beside it.

    Every write goes through ``transaction()`` (the single writer, serialised by a lock); every
    read outside a transaction goes to a read connection (``query_only``: a stray write there
    fails loudly instead of bypassing the writer). ``:memory:`` has no second connection to the
    same data, so there the writer also reads.
    """

    def __init__(
        self, writer: aiosqlite.Connection, path: str, readers: Sequence[aiosqlite.Connection] = ()
    ) -> None:
        self.writer = writer
        self.path = path
        self._readers = list(readers)
        self._next_reader = 0
        self._write_lock = asyncio.Lock()
        self._cleanups: set[asyncio.Future[None]] = set()  # abandoned BEGINs still settling
        self.connection = RoutedConnection(self)
        self.busy_timeout_ms = 5000
        self.readonly = False  # opened by open_readonly: nothing may be written, maintenance included
        self._claim = FolderClaim(None)  # see bot/storage/folder_claim.py
        self.writes = WriteHealth()

    @property
    def dialect(self) -> Dialect:
        return SQLITE

    @property
    def writing(self) -> bool:
        """Whether this process's writer is in use (or waiting for another process's lock)."""
        return self._write_lock.locked()

    @property
    def reader_count(self) -> int:
        return len(self._readers)

    def reader(self) -> aiosqlite.Connection:
        """A read connection (round robin over the pool; the writer for :memory:)."""
        if not self._readers:
            return self.writer
        self._next_reader = (self._next_reader + 1) % len(self._readers)
        return self._readers[self._next_reader]

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        busy_timeout_ms: int = 5000,
        migrations: list[Migration] | None = None,
        readers: int = 1,
        create: bool = True,
        claim: FolderClaim | None = None,
    ) -> Database:
        """Open (``create``: or make) the store, migrated to the newest schema. ``claim``: the
        caller's own claim on the store's folder (migrate-store's exclusive one), held until close
        instead of a shared one (which would wait for the caller's own).

        Raises StoreMissing when ``create`` is false and there is no file, ForeignDatabase (having
        written nothing) for another program's SQLite file."""
        target = str(path)
        if target != ":memory:":
            _make_room(target, create=create)
            # Held until close: a restore waits for no one and refuses while it is held.
            claim = claim or await claim_for_use(Path(target))
        else:
            claim = claim or FolderClaim(None)
        try:
            writer = await _connect(target, busy_timeout_ms)
        except BaseException:
            claim.release()
            raise
        opened = [writer]
        try:
            await _refuse_foreign(writer, target)  # before WAL: the first write
            await writer.execute("PRAGMA journal_mode = WAL")
            database = cls(writer, target)
            database.busy_timeout_ms = int(busy_timeout_ms)
            await database.migrate(bundled_migrations() if migrations is None else migrations)
            if target != ":memory:":
                for _ in range(readers):
                    reader = await _connect(target, busy_timeout_ms)
                    opened.append(reader)
                    await reader.execute("PRAGMA query_only = ON")
                    # Each connection has its own page cache: a few readers with the writer's 32 MiB
                    # would double the bot's memory, while pages they miss come from the OS's cache.
                    await reader.execute(f"PRAGMA cache_size = {-READER_CACHE_KIB}")
                    database._readers.append(reader)
        except BaseException:
            for connection in opened:
                await connection.close()
            claim.release()
            raise
        database._claim = claim
        return database

    @classmethod
    async def open_readonly(cls, path: str | Path) -> Database:
        """Read without writing anything: no migration, no PRAGMA that writes, no file created.

        SQLite opens even a read-only WAL database by making ``-shm``/``-wal`` files beside it, and
        leaves them. With no ``-wal`` there (no bot running) the file cannot change under us, so it
        is opened ``immutable`` and nothing is made; with one, the existing files are used.
        """
        connection = await _open(readonly_uri(Path(path)), uri=True, isolation_level=None)
        connection.row_factory = aiosqlite.Row
        try:
            await _refuse_foreign(connection, str(path))
        except BaseException:
            await connection.close()
            raise
        database = cls(connection, str(path))
        database.readonly = True
        return database

    async def close(self) -> None:
        if self._cleanups:  # an abandoned BEGIN ends within the busy timeout; then close cleanly
            await asyncio.gather(*self._cleanups, return_exceptions=True)
        for reader in self._readers:
            await reader.close()
        await self.writer.close()
        self._claim.release()

    def file_size(self) -> int | None:
        """Bytes on disk (the file and its write-ahead log); None for an in-memory store."""
        if self.path == ":memory:":
            return None
        files = (Path(self.path), Path(f"{self.path}-wal"))
        return sum(f.stat().st_size for f in files if f.exists())

    async def schema_version(self) -> int:
        async with self.connection.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def integrity(self) -> str:
        """SQLite's own check: "ok", or what it found wrong."""
        async with self.connection.execute("PRAGMA integrity_check") as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else "unknown"

    async def migrate(self, migrations: list[Migration]) -> int:
        """Apply pending migrations, all in one transaction: on failure the version stays as it was."""
        current = await self.schema_version()
        latest = migrations[-1].number if migrations else 0
        if current > latest:
            raise SchemaTooNew(
                f"{self.path} has schema version {current}, newer than this paperbot knows ({latest})"
            )
        if not any(m.number > current for m in migrations):
            return current
        async with self.transaction() as conn:
            # Read again under the write lock: another process starting on the same new store may
            # have migrated it meanwhile ("table papers already exists" for the second one).
            async with conn.execute("PRAGMA user_version") as cursor:
                row = await cursor.fetchone()
            current = int(row[0]) if row else 0
            pending = [m for m in migrations if m.number > current]
            if not pending:
                return current
            for migration in pending:
                log.info("applying migration %s", migration.name)
                for statement in migration.statements():
                    await conn.execute(statement)
            # user_version lives in the file header and commits (or rolls back) with the rest.
            await conn.execute(f"PRAGMA user_version = {pending[-1].number}")
        return pending[-1].number

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One use case, one transaction: everything inside commits together or not at all.

        A database busy beyond the busy timeout (another process writing) or a full disk becomes
        StorageUnavailable, a message fit for users; the rollback guarantees nothing half-written.
        """
        if _writing.get() is self:
            raise RuntimeError("transactions do not nest: one use case, one transaction")
        writer = self.writer
        await self._begin(_write_wait.get())
        try:
            token = _writing.set(self)
            changes_before = writer.total_changes
            try:
                yield writer
            except BaseException as exc:
                if writer.in_transaction:
                    await writer.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError) and _is_capacity_error(exc):
                    raise self._unavailable(exc) from exc
                raise
            else:
                try:
                    await writer.execute("COMMIT")
                except sqlite3.OperationalError as exc:
                    if writer.in_transaction:
                        await writer.execute("ROLLBACK")
                    if _is_capacity_error(exc):
                        raise self._unavailable(exc) from exc
                    raise
                if writer.total_changes != changes_before:
                    self.writes.wrote()
            finally:
                _writing.reset(token)
        finally:
            self._write_lock.release()

    def _unavailable(self, exc: sqlite3.OperationalError) -> StorageUnavailable:
        if "full" in str(exc).lower():
            full = DiskFull()
            self.writes.refused(str(full))
            return full
        return StorageUnavailable(BUSY)

    async def _begin(self, policy: WriteWait | None) -> None:
        """Hold the write lock and an open write transaction (BEGIN IMMEDIATE), or raise."""
        if policy is None:  # background work: wait up to the busy timeout
            await self._write_lock.acquire()
            if not await self._begin_holding_lock(self.busy_timeout_ms / 1000):
                raise StorageUnavailable(BUSY)
            return
        if not self._write_lock.locked():  # free here: try without waiting at all
            await self._write_lock.acquire()
            if await self._begin_holding_lock(0):
                return
        await policy.before_waiting()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + policy.budget
        try:
            await asyncio.wait_for(self._write_lock.acquire(), timeout=policy.budget)
        except TimeoutError:
            raise StorageUnavailable(BUSY) from None
        if not await self._begin_holding_lock(max(0.0, deadline - loop.time())):
            raise StorageUnavailable(BUSY)

    async def _begin_holding_lock(self, wait: float) -> bool:
        """With the write lock held: BEGIN IMMEDIATE within ``wait`` seconds, else release it.

        A task cancelled meanwhile (shutdown, an abandoned interaction) cannot take back a BEGIN
        already with the writer's thread: the thread runs it whatever happens to the task, and it
        begins if the other process has just let go. So the attempt finishes that one try (no
        more), and the lock stays held until it is over and rolled back; released at once, the
        next transaction would find the writer inside a transaction nobody owns."""
        abandoned = asyncio.Event()
        attempt = asyncio.ensure_future(self._try_begin(wait, abandoned))
        try:
            began = await asyncio.shield(attempt)
        except asyncio.CancelledError:
            abandoned.set()
            cleanup = asyncio.ensure_future(self._release_after(attempt))
            self._cleanups.add(cleanup)
            cleanup.add_done_callback(self._cleanups.discard)
            raise
        except BaseException:
            self._write_lock.release()
            raise
        if not began:
            self._write_lock.release()
        return began

    async def _release_after(self, attempt: asyncio.Future[bool]) -> None:
        """Release the write lock once an abandoned BEGIN is over, rolling it back if it began."""
        try:
            with contextlib.suppress(Exception):
                await attempt
            if self.writer.in_transaction:
                await self.writer.execute("ROLLBACK")
        except Exception:
            log.warning("could not roll back an abandoned transaction", exc_info=True)
        finally:
            self._write_lock.release()

    async def _try_begin(self, wait: float, abandoned: asyncio.Event) -> bool:
        """BEGIN IMMEDIATE, waiting at most ``wait`` seconds for another process's lock (no more
        tries once ``abandoned``).

        Retried every WRITE_POLL_SECONDS rather than by SQLite's busy handler, whose retries
        thin out to one per 100 ms: a batch job (a CLI ingest) frees the lock for only a moment
        between its commits, and a writer here must see that moment to get in."""
        writer = self.writer
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        await writer.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    await writer.execute("BEGIN IMMEDIATE")
                    return True
                except sqlite3.OperationalError as exc:
                    text = str(exc).lower()
                    if not ("locked" in text or "busy" in text):
                        if _is_capacity_error(exc):
                            raise self._unavailable(exc) from exc
                        raise
                left = deadline - loop.time()
                if left <= 0 or abandoned.is_set():
                    return False
                await asyncio.sleep(min(WRITE_POLL_SECONDS, left))
                if abandoned.is_set():
                    return False
        finally:
            await writer.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")

    async def backup(
        self, target: str | Path, *, progress: Callable[[int, int, int], None] | None = None
    ) -> None:
        """A consistent copy of the live database (SQLite's online backup), safe while the bot runs.
        Written beside ``target`` under a temporary name and renamed when whole, so a run killed
        mid-copy leaves no half file under ``target``; a file already there, or one that appears
        during the copy, is left intact (FileExistsError, the copy discarded).
        ``progress`` is SQLite's per-step callback (status, remaining, total pages)."""
        target = Path(target)
        await asyncio.to_thread(clear_stale_partials, target)
        partial = partial_path(target)
        try:
            destination = await _open(str(partial))
            try:
                await self.writer.backup(destination, pages=BACKUP_STEP_PAGES, progress=progress, sleep=0)
            finally:
                await destination.close()
            await asyncio.to_thread(finish, partial, target)  # fsyncs: off the event loop
        finally:
            partial.unlink(missing_ok=True)
            sidecar = partial.with_name(partial.name + "-journal")
            sidecar.unlink(missing_ok=True)


def _make_room(target: str, *, create: bool) -> None:
    """The folder a new store goes in; StoreMissing instead when it may not be created."""
    if not create and not Path(target).exists():
        raise StoreMissing(target)
    Path(target).parent.mkdir(parents=True, exist_ok=True)


async def _refuse_foreign(connection: aiosqlite.Connection, path: str) -> None:
    """Raise ForeignDatabase for a file at schema version 0 that already holds tables (a new file,
    or one the sandbox only marked, holds none of its own): reading only, nothing is written."""
    async with connection.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    if row is not None and int(row[0]) != 0:
        return
    async with connection.execute(
        "SELECT 1 FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name != ? LIMIT 1", (MARKER_TABLE,)
    ) as cursor:
        if await cursor.fetchone() is not None:
            raise ForeignDatabase(path)


async def _open(target: str, **options: Any) -> aiosqlite.Connection:
    """aiosqlite.connect, but a failed connect also waits for aiosqlite's thread to end: left
    running, it reports to the event loop after asyncio.run closed it ("Event loop is closed")."""
    connection = aiosqlite.connect(target, **options)
    try:
        return await connection
    except BaseException:
        await asyncio.to_thread(connection._thread.join)
        raise


async def _connect(target: str, busy_timeout_ms: int) -> aiosqlite.Connection:
    # isolation_level=None: no implicit transactions; every write goes through transaction().
    connection = await _open(target, isolation_level=None)
    connection.row_factory = aiosqlite.Row
    try:
        await connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        await connection.execute("PRAGMA synchronous = NORMAL")
        # 32 MiB of page cache: FTS index builds and searches stay in memory (+8% ingest speed).
        await connection.execute("PRAGMA cache_size = -32768")
        await connection.execute("PRAGMA foreign_keys = ON")
        await register_functions(connection)
    except BaseException:
        await connection.close()
        raise
    return connection


async def register_functions(connection: aiosqlite.Connection) -> None:
    """The text folding migrations need (the full-text index holds folded words, see 0007)."""
    functions: dict[str, Callable[[str], str]] = {
        "paperbot_search_text": search_text,
        "paperbot_authors_text": authors_search_text,
        "paperbot_title_key": title_key,
        "paperbot_title_id": title_id_from_key,
        "paperbot_title_terms": lambda key: json.dumps(sorted(set(key.split())), ensure_ascii=False),
        "paperbot_fold_name": fold_name,
        "paperbot_family_key": family_key,
    }
    for name, function in functions.items():
        await connection.create_function(name, 1, function, deterministic=True)
    await connection.create_function("paperbot_paper_terms", 2, paper_terms_json, deterministic=True)
    await connection.create_function("paperbot_person_key", 2, PersonFollow.refolded_key, deterministic=True)


def paper_terms_json(title: str, abstract: str) -> str:
    """A paper's distinct title and abstract words, a JSON array (the term_docs migration counts them)."""
    return json.dumps(sorted(word_set(title) | word_set(abstract)), ensure_ascii=False)


def authors_search_text(authors: str) -> str:
    """What the full-text index holds for a JSON array of names (the ``authors`` column)."""
    if authors.isascii() and "\\" not in authors:
        # Brackets, quotes and commas separate words for unicode61 as spaces do, and without an
        # escape the names' characters are the array's: index it as it is, no decoding.
        return authors
    return search_text(" ".join(json.loads(authors)))


def _is_capacity_error(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text or "full" in text
