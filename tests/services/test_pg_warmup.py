"""The PostgreSQL warm-up (bot.storage.pg_warmup) where pg_prewarm is out of reach or another process
is already reading: a role that may not create the extension still has the papers' rows read (plain
reads, and the log says why), and processes sharing a store read it once at a time."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bot.domain.models import ListedPaper
from bot.services.container import Services
from bot.settings import Settings
from bot.storage import pg_warmup
from bot.storage.postgres import PostgresDatabase
from tests.conftest import FIXED_NOW

pytestmark = pytest.mark.usefixtures("postgres_server")


def _as_role(url: str, role: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"{role}@{host}", parts.path, parts.query, parts.fragment))


@pytest.fixture
async def loaded_url(postgres_url: str, sample_papers: list[ListedPaper]) -> str:
    """A store holding the sample papers, without pg_prewarm (an earlier test may have created it
    in this reused database)."""
    database = await PostgresDatabase.open(postgres_url)
    try:
        services = await Services.open(database, Settings(), clock=lambda: FIXED_NOW)
        await services.papers.ingest(sample_papers)
    finally:
        await database.close()
    connection = await asyncpg.connect(postgres_url)
    try:
        await connection.execute("DROP EXTENSION IF EXISTS pg_prewarm")
    finally:
        await connection.close()
    return postgres_url


@pytest.fixture
async def plain_role(loaded_url: str) -> AsyncIterator[str]:
    """The URL of the store as a role that may read paperbot's tables but not create extensions
    (as a bot's role on a managed server usually is)."""
    role = f"paperbot_reader_{os.getpid()}"
    admin = await asyncpg.connect(loaded_url)
    try:
        await admin.execute(f"DROP ROLE IF EXISTS {role}")
        await admin.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER")
        await admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        yield _as_role(loaded_url, role)
    finally:
        await admin.execute(f"DROP OWNED BY {role}")
        await admin.execute(f"DROP ROLE {role}")
        await admin.close()


async def _table_bytes(url: str) -> int:
    """Bytes of the tables (not the indexes) the warm-up reads."""
    tables = [name for name, _ in pg_warmup.WARMED]
    connection = await asyncpg.connect(url)
    try:
        return int(
            await connection.fetchval(
                "SELECT sum(pg_relation_size(c.oid)) FROM pg_class AS c WHERE c.relkind = 'r' "
                "AND c.oid = ANY(SELECT to_regclass(name) FROM unnest($1::text[]) AS name)",
                tables,
            )
        )
    finally:
        await connection.close()


async def test_a_role_that_may_not_create_pg_prewarm_reads_the_rows_plainly(
    plain_role: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg_warmup, "CHUNK_BLOCKS", 2)  # several chunks a table, newest first

    warmed = await pg_warmup.warm_store(plain_role)

    assert warmed.finished and warmed.how.startswith(pg_warmup.PLAIN)
    assert "may not create it" in warmed.describe()
    assert warmed.bytes_read == await _table_bytes(plain_role) > 0


async def test_a_second_process_leaves_the_reading_to_the_first(loaded_url: str) -> None:
    first = await asyncpg.connect(loaded_url)  # the first process, mid-read: it holds the lock
    try:
        await first.fetchval("SELECT pg_advisory_lock($1)", pg_warmup.WARM_LOCK)

        warmed = await pg_warmup.warm_store(loaded_url)

        assert not warmed.finished and warmed.bytes_read == 0
        assert "another paperbot process is reading it" in warmed.describe()
    finally:
        await first.close()
    # The first one done (its connection closed), the next start reads again.
    assert (await pg_warmup.warm_store(loaded_url)).finished


async def test_the_lock_goes_with_the_reading_connection(loaded_url: str) -> None:
    await pg_warmup.warm_store(loaded_url)

    other = await asyncpg.connect(loaded_url)
    try:
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", pg_warmup.WARM_LOCK)
    finally:
        await other.close()
