"""The PostgreSQL backend: an asyncpg pool behind the same surface as the SQLite ``Database``.

Repositories keep one SQL text for both backends: ``?`` placeholders are numbered here (``$1``..),
``?NNN`` keeps its number, and string literals are left alone. Inside ``transaction()`` every
statement runs on that transaction's pooled connection; outside, each read takes a pooled
connection for itself. PostgreSQL has no single writer: concurrent transactions (this process's
or other processes') are ordered by row locks, so ``WriteWait`` has nothing to wait for here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncpg

from bot.errors import DiskFull, StorageUnavailable, StoreMisconfigured
from bot.storage.connection import POSTGRES, Connection, Dialect
from bot.storage.database import BUSY, ForeignDatabase, Migration, SchemaTooNew, bundled_migrations
from bot.storage.people import backfill_author_names
from bot.storage.pg_copy import binary_streamed, streamed
from bot.storage.refold import refold_names
from bot.storage.write_health import WriteHealth

log = logging.getLogger(__name__)

# Migrations PostgreSQL finishes in Python, right after their SQL: rows whose values only Python
# computes (SQLite's SQL calls the same Python functions, registered on its connection).
PYTHON_STEPS: dict[int, Callable[[Connection], Awaitable[object]]] = {
    27: backfill_author_names,
    34: refold_names,
}

UNREACHABLE = "The database server cannot be reached: nothing was saved. Try again shortly."
# The same outage under a statement outside a transaction (a search, a list, a job's look-up),
# which had nothing to save: "nothing was saved" there read as if a write had been tried.
STORE_UNREACHABLE = (
    "The store is unreachable: its database server cannot be reached (stopped or restarting). "
    "Try again shortly."
)
SCHEMA_CHANGED = "Another paperbot changed the store's tables meanwhile: nothing was saved. Try again."
MISCONFIGURED = "Nothing was saved: fix the URL (database.url, PAPERBOT_DATABASE_URL or --to)."
# A hot standby (or a database with default_transaction_read_only) answers reads and refuses every
# write: `paperbot run` ended in a traceback at its first claim, exit 1, restarted for ever.
READ_ONLY = (
    "only takes reads (a standby, or default_transaction_read_only is on), and paperbot writes to its "
    "store: point the URL at the primary server"
)
_IS_READ_ONLY = "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'"
# What a server that was reached answers to a URL it will not take: an unknown option (sent as a
# server setting), a bad value for one, a role or database that does not exist, a wrong password.
REFUSED_SETTINGS = (
    asyncpg.UndefinedObjectError,
    asyncpg.InvalidParameterValueError,
    asyncpg.CantChangeRuntimeParamError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidPasswordError,
    asyncpg.InvalidCatalogNameError,
)
_TOKENS = re.compile(r"'(?:[^']|'')*'|\?(\d+)?")
# Taken by the transaction that migrates, so processes starting together migrate once.
MIGRATION_LOCK = 7_123_560_001
# Settings of paperbot's own sessions, whatever the server's defaults. JIT compiles a statement
# whose estimated cost passes jit_above_cost (a search over a million papers does) before running
# it, tens of milliseconds each time, more than the statement itself takes once compiled.
# plan_cache_mode: a statement from asyncpg's cache is planned for each execution's values, as a
# freshly prepared one was; after five runs the server may otherwise keep a generic plan, blind to
# how many papers a search's words match.
SESSION_SETTINGS = {"jit": "off", "plan_cache_mode": "force_custom_plan"}


async def _connected_pool(url: str, size: int) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(url, min_size=0, max_size=size, server_settings=SESSION_SETTINGS)
    try:
        async with pool.acquire():
            pass
    except BaseException:
        pool.terminate()
        raise
    return pool


# The server ended the session (a restart, pg_terminate_backend, a crash) or the socket closed.
_SESSION_ENDED = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
)


def _session_ended(exc: Exception, connection: asyncpg.Connection) -> bool:
    """Whether ``exc`` is the session ending under a statement (said as the store being unreachable);
    a client-side InterfaceError on a live connection is a bug to see, not an outage."""
    if isinstance(exc, _SESSION_ENDED):
        return True
    return isinstance(exc, (asyncpg.InterfaceError, asyncpg.InternalClientError)) and connection.is_closed()


def _refuses_more_connections(exc: Exception, where: str, held: int) -> StorageUnavailable:
    """A full server, at open or at any later use alike: it is there and answered (its host and
    port are right), its connection slots are taken."""
    return StorageUnavailable(
        f"The database server at {where} refuses more connections ({exc}): each paperbot process "
        f"holds up to {held}. Raise the server's max_connections, stop what else holds its "
        "connections, or try again shortly."
    )


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


# Query options that carry a secret: libpq and asyncpg take the password there too
# (``postgresql:///db?user=bot&password=...``), and ``sslpassword`` unlocks the client key.
_SECRET_OPTIONS = frozenset({"password", "sslpassword"})


def redacted(url: str) -> str:
    """The URL without its passwords (for logs and messages): the one before the host and any
    ``password`` or ``sslpassword`` option; the rest as written (an IPv6 host keeps its brackets)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:***@{host}"
    query = "&".join(_without_secret(option) for option in parts.query.split("&"))
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    # Rebuilt by hand: urlunsplit would drop the empty host of postgresql:///db?host=/run/...
    return (
        f"{parts.scheme}://{netloc}{parts.path}"
        + (f"?{query}" if query else "")
        + (f"#{parts.fragment}" if parts.fragment else "")
    )


def _without_secret(option: str) -> str:
    name, has_value, _ = option.partition("=")
    return f"{name}=***" if has_value and unquote(name).strip().lower() in _SECRET_OPTIONS else option


def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$n`` (quoted text untouched)."""
    counter = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal counter
        token = match.group(0)
        if token.startswith("'"):
            return token
        if match.group(1):
            return "$" + match.group(1)
        counter += 1
        return f"${counter}"

    return _TOKENS.sub(replace, sql)


def _rowcount(status: str | None) -> int:
    """Rows a statement touched, from its command tag ("UPDATE 3", "INSERT 0 1", "SELECT 5")."""
    if not status:
        return 0
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PgCursor:
    """The rows of one statement, read like an aiosqlite cursor."""

    def __init__(self, rows: Sequence[asyncpg.Record], status: str | None) -> None:
        self._rows = list(rows)
        self._next = 0
        self.rowcount = _rowcount(status)

    async def fetchone(self) -> asyncpg.Record | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchall(self) -> list[asyncpg.Record]:
        rest = self._rows[self._next :]
        self._next = len(self._rows)
        return rest


class PgResult:
    """What ``execute`` returns: await it, or ``async with`` it, for the cursor."""

    def __init__(self, database: PostgresDatabase, sql: str, parameters: Iterable[Any] | None) -> None:
        self._database = database
        self._sql = numbered(sql)
        self._parameters = tuple(parameters or ())

    def __await__(self) -> Generator[Any, None, PgCursor]:
        return self._run().__await__()

    async def __aenter__(self) -> PgCursor:
        return await self._run()

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def _run(self) -> PgCursor:
        async with self._database.acquired() as connection:
            rows, status = await _cached_fetch(connection, self._sql, self._parameters)
            return PgCursor(rows, status)


async def _cached_fetch(
    connection: asyncpg.Connection, sql: str, parameters: tuple[Any, ...]
) -> tuple[list[asyncpg.Record], str]:
    """The statement's rows and its command tag, prepared once per connection: asyncpg's
    statement cache (what its ``fetch`` and ``execute`` use) skips the Parse round trip after the
    first use. ``Connection.prepare`` never caches, so every statement was two round trips, and
    no public call returns both the rows and the tag (an UPDATE's count). This is the call
    asyncpg's own ``execute`` makes. A statement cached before another process's migration
    changed its table is prepared again by asyncpg outside a transaction; inside one it fails
    once (InvalidCachedStatementError, said as SCHEMA_CHANGED: the next try prepares it anew)."""
    rows, status, _ = await connection._execute(sql, parameters, 0, None, return_status=True)
    return rows, status.decode() if status else ""


class PgRoutedConnection:
    def __init__(self, database: PostgresDatabase) -> None:
        self._database = database

    @property
    def dialect(self) -> Dialect:
        return POSTGRES

    def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> PgResult:
        return PgResult(self._database, sql, parameters)

    async def fetch_all(self, sql: str, parameters: Iterable[Any] | None = None) -> list[Any]:
        async with self.execute(sql, parameters) as cursor:
            return await cursor.fetchall()

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> None:
        rows = [tuple(row) for row in parameters]
        if not rows:
            return
        async with self._database.acquired() as connection:
            await connection.executemany(numbered(sql), rows)

    async def copy_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        binary: Sequence[str] | None = None,
    ) -> int:
        """Write ``rows`` into ``table`` with COPY (bot.storage.pg_copy), made as the server reads
        them; an error in any row (or in making one) writes none of them. Returns the rows written.
        ``binary``: each column's kind (``pg_copy.BINARY_KINDS``), to send them in COPY's binary
        format instead of its text."""
        source = streamed(rows) if binary is None else binary_streamed(rows, binary)
        return await self._copy(table, columns, source, "text" if binary is None else "binary")

    async def copy_binary(self, table: str, columns: Sequence[str], chunks: AsyncIterator[bytes]) -> int:
        """Write rows already in COPY's binary format (``pg_copy.binary_chunks``), chunk by chunk as
        ``chunks`` gives them, into ``table``; as ``copy_rows`` otherwise."""
        return await self._copy(table, columns, chunks, "binary")

    async def _copy(self, table: str, columns: Sequence[str], source: AsyncIterator[bytes], form: str) -> int:
        async with self._database.acquired() as connection:
            status = await connection.copy_to_table(table, source=source, columns=list(columns), format=form)
        return _rowcount(status)


_in_transaction: ContextVar[tuple[PostgresDatabase, asyncpg.Connection] | None] = ContextVar(
    "paperbot_pg_transaction", default=None
)


class PostgresDatabase:
    """A paperbot store on a PostgreSQL server, shared by any number of bot processes."""

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self.url = url
        self.path = redacted(url)
        self.connection = PgRoutedConnection(self)
        self._open_transactions = 0
        self.writes = WriteHealth()

    @property
    def dialect(self) -> Dialect:
        return POSTGRES

    @property
    def writing(self) -> bool:
        return self._open_transactions > 0

    @property
    def reader_count(self) -> int:
        return int(self._pool.get_max_size())

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        migrations: list[Migration] | None = None,
        readers: int = 1,
        migrate: bool = True,
        reads_only: bool = False,
    ) -> PostgresDatabase:
        """Connect and migrate to the newest schema (ForeignDatabase for another program's database);
        ``migrate`` false: only look (diagnostics), SchemaTooNew still raised for a newer schema.
        ``reads_only``: for a command that only reads, a database that only takes reads (a
        standby) is used as it is, when it already has this paperbot's schema."""
        pool_size = max(4, readers + 3)
        # No floor of connections kept open: while the server is down, asyncpg's pool restoring one
        # logs a WARNING with a traceback every retry (1 s, 2 s, ... 60 s), beside the jobs' one
        # line. Each use opens what it needs; the first one here, at once, so a wrong URL or a
        # server that is not there is said now, not by the first job.
        try:
            pool = await _connected_pool(url, pool_size)
        except (asyncpg.ClientConfigurationError, *REFUSED_SETTINGS) as exc:
            raise StoreMisconfigured(
                f"the database URL {redacted(url)} is refused: {exc}. {MISCONFIGURED}"
            ) from exc
        except asyncpg.TooManyConnectionsError as exc:
            raise _refuses_more_connections(exc, redacted(url), pool_size) from exc
        except asyncpg.CannotConnectNowError as exc:
            raise StorageUnavailable(
                f"The database server at {redacted(url)} does not take connections yet ({exc}). "
                "Try again shortly."
            ) from exc
        except (OSError, ValueError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # At open nothing was tried yet, so not UNREACHABLE's "nothing was saved" (doctor, which
            # never saves, said it too): where it is, what it answered, that it may be back soon.
            raise StorageUnavailable(
                f"The database server cannot be reached ({redacted(url)}: {exc}). Check that it runs and "
                "the URL's host and port, or try again shortly."
            ) from exc
        database = cls(pool, url)
        try:
            chosen = bundled_migrations("postgres") if migrations is None else migrations
            if migrate and await database.read_only():
                if not reads_only:
                    raise StoreMisconfigured(f"the database {database.path} {READ_ONLY}. {MISCONFIGURED}")
                await database._require_schema(chosen)
                migrate = False
            if migrate:
                await database.migrate(chosen)
            elif await database.schema_version() > (chosen[-1].number if chosen else 0):
                raise SchemaTooNew(f"{database.path} has a schema newer than this paperbot knows")
            async with database.acquired() as connection:
                collation = await connection.fetchval(
                    "SELECT datcollate FROM pg_database WHERE datname = current_database()"
                )
        except BaseException:
            await pool.close()
            raise
        if collation not in ("C", "POSIX", "C.UTF-8", "C.utf8"):
            # Names and keys would sort by this locale's rules, not byte by byte as on SQLite.
            log.warning(
                "database %s has collation %s; paperbot expects C (README: Scaling out)",
                database.path,
                collation,
            )
        return database

    async def close(self) -> None:
        await self._pool.close()

    def file_size(self) -> int | None:
        return None

    @asynccontextmanager
    async def acquired(self) -> AsyncIterator[asyncpg.Connection]:
        """The open transaction's connection, else one from the pool for this statement."""
        current = _in_transaction.get()
        if current is not None and current[0] is self:
            yield current[1]
            return
        connection_context = self._pool.acquire()
        connection = await self._connected(connection_context, STORE_UNREACHABLE)
        try:
            yield connection
        except Exception as exc:
            if _session_ended(exc, connection):
                raise StorageUnavailable(STORE_UNREACHABLE) from exc
            raise
        finally:
            await connection_context.__aexit__(None, None, None)

    async def _connected(self, connection_context: Any, unreachable: str) -> asyncpg.Connection:
        """A pooled connection; the pool opens a new one for a connection it found ended (the
        server restarted), and whatever stops it from connecting now (refused, starting up,
        not accepting connections, full) is the store being unavailable, said the same way by every
        job: each raw reason (3 in one restart) made a job's failure spell log a line of its own."""
        try:
            connection: asyncpg.Connection = await connection_context.__aenter__()
        except asyncpg.TooManyConnectionsError as exc:
            raise _refuses_more_connections(exc, self.path, self.reader_count) from exc
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError) as exc:
            raise StorageUnavailable(unreachable) from exc
        return connection

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgRoutedConnection]:
        """One use case, one transaction (READ COMMITTED; the leases' conditional updates re-check
        their condition on the row they lock, so two processes never both win a claim)."""
        current = _in_transaction.get()
        if current is not None and current[0] is self:
            raise RuntimeError("transactions do not nest: one use case, one transaction")
        connection_context = self._pool.acquire()
        connection = await self._connected(connection_context, UNREACHABLE)
        self._open_transactions += 1
        token = _in_transaction.set((self, connection))
        try:
            transaction = connection.transaction()
            await transaction.start()
            try:
                yield self.connection
            except BaseException:
                try:
                    await transaction.rollback()
                except Exception:
                    if not connection.is_closed():
                        raise
                    # The connection ended (and its transaction with it): the failure is why,
                    # not "cannot call Transaction.rollback(): the underlying connection is closed".
                raise
            else:
                # Only while marked unwritable: whether this transaction wrote (it has a
                # transaction id only then), since a commit that wrote nothing proves no room.
                wrote = self.writes.unwritable is not None and await connection.fetchval(
                    "SELECT txid_current_if_assigned() IS NOT NULL"
                )
                await transaction.commit()
                if wrote:
                    self.writes.wrote()
        except (asyncpg.SerializationError, asyncpg.DeadlockDetectedError) as exc:
            raise StorageUnavailable(BUSY) from exc
        except asyncpg.InvalidCachedStatementError as exc:  # see _cached_fetch; asyncpg dropped the cache
            raise StorageUnavailable(SCHEMA_CHANGED) from exc
        except asyncpg.ReadOnlySQLTransactionError as exc:  # the server became a standby meanwhile
            raise StorageUnavailable(f"Nothing was saved: the database {READ_ONLY}.") from exc
        except asyncpg.DiskFullError as exc:
            full = DiskFull()
            self.writes.refused(str(full))
            raise full from exc
        except Exception as exc:
            if _session_ended(exc, connection):
                raise StorageUnavailable(UNREACHABLE) from exc
            raise
        finally:
            _in_transaction.reset(token)
            self._open_transactions -= 1
            await connection_context.__aexit__(None, None, None)

    async def schema_version(self) -> int:
        async with self.acquired() as connection:
            exists = await connection.fetchval("SELECT to_regclass('paperbot_schema') IS NOT NULL")
            if not exists:
                return 0
            version = await connection.fetchval("SELECT coalesce(max(version), 0) FROM paperbot_schema")
            return int(version)

    async def integrity(self) -> str:
        """PostgreSQL checks its own pages; this says whether the server answers, and takes writes."""
        return f"failed: it {READ_ONLY}" if await self.read_only() else "ok"

    async def read_only(self) -> bool:
        async with self.acquired() as connection:
            return bool(await connection.fetchval(_IS_READ_ONLY))

    async def _require_schema(self, migrations: list[Migration]) -> None:
        """A read-only database is read as it is: one at an older schema (or none) cannot be brought
        up to date here, and its tables would not answer today's queries."""
        version = await self.schema_version()
        latest = migrations[-1].number if migrations else 0
        if version < latest:
            held = (
                f"schema version {version}, older than this paperbot's {latest}"
                if version
                else "no paperbot schema yet"
            )
            raise StoreMisconfigured(
                f"the database {self.path} only takes reads (a standby, or default_transaction_read_only "
                f"is on) and has {held}: start this paperbot's bot (`paperbot run`) on the primary server "
                "once, which brings the schema up to date"
            )

    async def migrate(self, migrations: list[Migration]) -> int:
        """Apply pending migrations in one transaction (all or none), once across processes."""
        latest = migrations[-1].number if migrations else 0
        async with self.transaction():
            current = _in_transaction.get()
            assert current is not None
            connection = current[1]
            await connection.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            version = await self.schema_version()
            if version == 0:
                await self._refuse_foreign(connection)
                await connection.execute("CREATE TABLE paperbot_schema (version integer NOT NULL)")
            if version > latest:
                raise SchemaTooNew(
                    f"{self.path} has schema version {version}, newer than this paperbot knows ({latest})"
                )
            pending = [m for m in migrations if m.number > version]
            for migration in pending:
                log.info("applying migration %s", migration.name)
                await connection.execute(migration.sql)
                step = PYTHON_STEPS.get(migration.number)
                if step is not None:  # inside this transaction: self.connection routes to it
                    await step(self.connection)
            if pending:
                await connection.execute("DELETE FROM paperbot_schema")
                number = pending[-1].number
                await connection.execute("INSERT INTO paperbot_schema (version) VALUES ($1)", number)
            return pending[-1].number if pending else version

    async def _refuse_foreign(self, connection: asyncpg.Connection) -> None:
        """A database with tables but no paperbot schema is another program's: leave it alone."""
        tables = await connection.fetchval(
            "SELECT count(*) FROM pg_tables "
            "WHERE schemaname = current_schema() AND tablename <> 'paperbot_schema'"
        )
        if tables:
            raise ForeignDatabase(self.path)
