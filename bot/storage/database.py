"""Connection set-up and schema migrations."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import aiosqlite

from bot.errors import StorageUnavailable

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"(?P<number>\d{4})_[a-z0-9_]+\.sql")


class SchemaTooNew(RuntimeError):
    """The database was written by a newer paperbot than this one."""


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


def bundled_migrations() -> list[Migration]:
    folder = resources.files("bot.storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match["number"]), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.number)
    numbers = [m.number for m in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..N without gaps, found {numbers}")
    return found


def _readonly_uri(target: Path) -> str:
    if not target.is_file():
        raise FileNotFoundError(f"{target} does not exist")
    uri = target.resolve().as_uri() + "?mode=ro"
    if not Path(f"{target}-wal").exists():
        uri += "&immutable=1"
    return uri


class Database:
    """One aiosqlite connection, its PRAGMAs, and a writer lock for whole-use-case transactions."""

    def __init__(self, connection: aiosqlite.Connection, path: str) -> None:
        self.connection = connection
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        busy_timeout_ms: int = 5000,
        migrations: list[Migration] | None = None,
    ) -> Database:
        target = str(path)
        if target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; every write goes through transaction().
        connection = await aiosqlite.connect(target, isolation_level=None)
        connection.row_factory = aiosqlite.Row
        try:
            await connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA synchronous = NORMAL")
            # 32 MiB of page cache: FTS index builds and searches stay in memory (+8% ingest speed).
            await connection.execute("PRAGMA cache_size = -32768")
            await connection.execute("PRAGMA foreign_keys = ON")
            database = cls(connection, target)
            await database.migrate(bundled_migrations() if migrations is None else migrations)
        except BaseException:
            await connection.close()
            raise
        return database

    @classmethod
    async def open_readonly(cls, path: str | Path) -> Database:
        """Read without writing anything: no migration, no PRAGMA that writes, no file created.

        SQLite opens even a read-only WAL database by making ``-shm``/``-wal`` files beside it, and
        leaves them. With no ``-wal`` there (no bot running) the file cannot change under us, so it
        is opened ``immutable`` and nothing is made; with one, the existing files are used.
        """
        connection = await aiosqlite.connect(_readonly_uri(Path(path)), uri=True, isolation_level=None)
        connection.row_factory = aiosqlite.Row
        return cls(connection, str(path))

    async def close(self) -> None:
        await self.connection.close()

    async def schema_version(self) -> int:
        async with self.connection.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self, migrations: list[Migration]) -> int:
        """Apply pending migrations, all in one transaction: on failure the version stays as it was."""
        current = await self.schema_version()
        latest = migrations[-1].number if migrations else 0
        if current > latest:
            raise SchemaTooNew(
                f"{self.path} has schema version {current}, newer than this paperbot knows ({latest})"
            )
        pending = [m for m in migrations if m.number > current]
        if not pending:
            return current
        async with self.transaction() as conn:
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
        async with self._write_lock:
            try:
                await self.connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if _is_capacity_error(exc):
                    raise _unavailable(exc) from exc
                raise
            try:
                yield self.connection
            except BaseException as exc:
                if self.connection.in_transaction:
                    await self.connection.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError) and _is_capacity_error(exc):
                    raise _unavailable(exc) from exc
                raise
            else:
                try:
                    await self.connection.execute("COMMIT")
                except sqlite3.OperationalError as exc:
                    if self.connection.in_transaction:
                        await self.connection.execute("ROLLBACK")
                    if _is_capacity_error(exc):
                        raise _unavailable(exc) from exc
                    raise

    async def backup(self, target: str | Path) -> None:
        """A consistent copy of the live database (SQLite's online backup), safe while the bot runs."""
        destination = await aiosqlite.connect(str(target))
        try:
            await self.connection.backup(destination)
        finally:
            await destination.close()


def _is_capacity_error(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text or "full" in text


def _unavailable(exc: sqlite3.OperationalError) -> StorageUnavailable:
    if "full" in str(exc).lower():
        return StorageUnavailable(
            "The disk holding the database is full: nothing was saved. Free some space."
        )
    return StorageUnavailable(
        "The database is busy with another writer: nothing was saved. Try again shortly."
    )
