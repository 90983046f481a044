"""What the migrate-store tests share: a community's SQLite store with more than papers in it, an
empty PostgreSQL database, the CLI, and the whole of a PostgreSQL store as plain rows (to tell
"left as it was" from "changed a little")."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import asyncpg
import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.domain.digest import DigestPlan
from bot.domain.schedule import DigestConfig, LedgerKey
from bot.storage.database import Database
from bot.storage.digests import DigestRepository
from bot.storage.follows import FollowRepository
from tests.backends import postgres_server
from tests.postgres_server import PostgresServer

__all__ = ["postgres_server", "postgres_url", "sqlite_store"]
runner = CliRunner()
NOW = datetime(2026, 8, 1, 12, tzinfo=UTC)


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


async def _add_ledger(path: Path) -> None:
    """Besides the papers: a server's digest and posts, members' follows, their alerts and a DM batch."""
    db = await Database.open(path)
    async with db.transaction():
        digests, follows = DigestRepository(db.connection), FollowRepository(db.connection)
        await digests.save_config(DigestConfig(1, 101, time(9), "Europe/Berlin"), NOW)
        for guild in (1, 2):
            await digests.claim(
                DigestPlan(date(2026, 8, 1), None, (), 0),
                LedgerKey(guild, 100 + guild),
                date(2026, 8, 1),
                owner="a",
                lease_until=NOW,
                now=NOW,
            )
        for user in (10, 11, 12):
            await follows.ensure_member(user, 1, NOW)
            await follows.add_follow(user, "federated", "federated", NOW)
            await follows.queue([(user, pk, ["federated"]) for pk in (1, 2, 3)], NOW)
        await follows.open_batch(10, None, NOW, owner="a", lease_until=NOW + timedelta(minutes=1))
    await db.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Path:
    path = tmp_path / "community.db"
    assert run("ingest", "--db", str(path))[0] == 0  # the bundled sample: 69 papers
    asyncio.run(_add_ledger(path))
    return path


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    url = asyncio.run(postgres_server.empty_database())
    yield url
    asyncio.run(postgres_server.drop(url))


async def whole_store(url: str) -> dict[str, list[str]]:
    """Every row of every table (title_search, the schema version and the identity counters
    included), as sorted text: two calls compare equal only for the very same state."""
    connection = await asyncpg.connect(url)
    try:
        state: dict[str, list[str]] = {}
        tables = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        for (table,) in tables:
            rows = await connection.fetch(f'SELECT * FROM "{table}"')
            state[table] = sorted(repr(tuple(row)) for row in rows)
        sequences = await connection.fetch(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = current_schema()"
        )
        state["(sequences)"] = sorted(repr(tuple(row)) for row in sequences)
        return state
    finally:
        await connection.close()
