"""The ``database`` fixture on both backends: tests/storage and tests/services run every test that
uses it once on SQLite and once on PostgreSQL (a fresh database each time)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.storage.connection import Store
from bot.storage.database import Database
from bot.storage.postgres import PostgresDatabase
from tests.postgres_server import FOLDER_PREFIX, PostgresServer, start_server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    # Not pytest's tmp_path: that folder is private to root, and the server runs as its own user.
    folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX))
    os.chmod(folder, 0o755)
    try:
        yield from start_server(folder / "data")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def postgres_url(postgres_server: PostgresServer) -> AsyncIterator[str]:
    url = await postgres_server.fresh_database()
    yield url
    await postgres_server.release(url)


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with fresh_store(request, tmp_path / "test.db", postgres=request.param == "postgres") as store:
        yield store


@asynccontextmanager
async def fresh_store(request: pytest.FixtureRequest, path: Path, *, postgres: bool) -> AsyncIterator[Store]:
    """An empty, migrated store: SQLite at ``path``, or a fresh database on the session's server."""
    if not postgres:
        db = await Database.open(path)
        yield db
        await db.close()
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = await server.fresh_database()
    store = await PostgresDatabase.open(url)
    yield store
    await store.close()
    await server.release(url)


Opener = Callable[..., Awaitable[Store]]


@pytest.fixture(params=["sqlite", "postgres"])
async def store_at(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Opener, str]]:
    """How to open one empty store (on each backend) with chosen migrations, to build an older
    schema and upgrade it, and its backend's name for ``bundled_migrations``."""
    if request.param == "sqlite":
        path = tmp_path / "paperbot.db"
        yield (lambda **kw: Database.open(path, **kw)), "sqlite"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = await server.empty_database()
    yield (lambda **kw: PostgresDatabase.open(url, **kw)), "postgres"
    await server.drop(url)


# Tables of later migrations that today's ingest writes, as it writes them (``later_tables_meanwhile``).
INGEST_TABLES = {
    "term_docs": "CREATE TABLE term_docs (term TEXT PRIMARY KEY, docs INTEGER NOT NULL)",
    "people_names": (
        "CREATE TABLE people_names (kind TEXT, name TEXT, claim TEXT, folded TEXT, family TEXT, "
        "slots INTEGER, PRIMARY KEY (kind, name, claim))"
    ),
}


@asynccontextmanager
async def later_tables_meanwhile(
    store: Store, tables: Sequence[str] = ("term_docs", "people_names")
) -> AsyncIterator[None]:
    """Around today's ingest into a store made at an older schema: the ingest counts words into
    ``term_docs`` and author names into ``people_names``, tables of later migrations (``tables``:
    those the store's schema lacks). The tables are there for the ingest and gone after, as an
    older paperbot left the store (the upgrade then counts what it finds)."""
    async with store.transaction() as connection:
        for table in tables:
            await connection.execute(INGEST_TABLES[table])
    yield
    async with store.transaction() as connection:
        for table in tables:
            await connection.execute(f"DROP TABLE {table}")
