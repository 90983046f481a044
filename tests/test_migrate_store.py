"""``paperbot migrate-store``: a community's SQLite history moves to PostgreSQL whole, once."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.domain.digest import DigestPlan
from bot.domain.schedule import LedgerKey
from bot.services.papers import PaperService
from bot.storage.database import Database
from bot.storage.digests import DigestRepository
from bot.storage.follows import FollowRepository
from bot.storage.postgres import PostgresDatabase
from tests.backends import postgres_server
from tests.postgres_server import PostgresServer

__all__ = ["postgres_server"]
runner = CliRunner()
NOW = datetime(2026, 8, 1, 12, tzinfo=UTC)


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


async def _add_ledger(path: Path) -> None:
    """Besides the papers: a server's posts, members' follows, their alerts and a DM batch."""
    db = await Database.open(path)
    async with db.transaction():
        digests, follows = DigestRepository(db.connection), FollowRepository(db.connection)
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


async def _search_and_continue(url: str) -> tuple[list[str], list[str], int]:
    store = await PostgresDatabase.open(url)
    try:
        service = PaperService(store, clock=lambda: NOW)
        await service.start()
        hits = await service.search.search("federated learning", limit=5)
        suggested = await service.search.suggest("federated lea")
        async with store.transaction():  # new rows take ids after the copied ones
            follow = await FollowRepository(store.connection).add_follow(10, "pruning", "pruning", NOW)
        return [hit.paper.title for hit in hits], [s.title for s in suggested], follow or 0
    finally:
        await store.close()


def test_every_table_is_copied_verified_and_a_second_run_copies_nothing(
    sqlite_store: Path, postgres_url: str
) -> None:
    code, output = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 0, output
    assert "papers: 69 rows, 69 copied now (ok)" in output
    assert "alerts: 9 rows, 9 copied now (ok)" in output
    assert "digest_posts: 2 rows, 2 copied now (ok)" in output
    assert "every table's count matches" in output
    code, again = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 0 and "papers: 69 rows, 0 copied now (ok)" in again and "Copied 0 rows" in again

    titles, suggested, follow_id = asyncio.run(_search_and_continue(postgres_url))
    assert titles and all("federated" in title.lower() for title in titles)  # searchable there
    assert suggested and "federated" in suggested[0].lower()  # and its titles suggested
    assert follow_id == 4  # new rows take ids after the 3 copied follows
    # A PostgreSQL store that has moved on is not silently "verified".
    code, later = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 1 and "follows: 3 rows, 0 copied now (MISMATCH: 4 in PostgreSQL)" in later


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("mysql://x@localhost/paperbot", "must be a postgresql:// URL"),
        ("postgresql://paperbot@127.0.0.1:1/paperbot", "cannot be reached"),
        ("postgresql://paperbot@127.0.0.1:99999/paperbot", "--to has a bad port"),
        ("postgresql://paperbot@127.0.0.1:abc/paperbot", "--to has a bad port"),
    ],
)
def test_a_bad_or_unreachable_target_is_a_one_line_error(
    sqlite_store: Path, target: str, message: str
) -> None:
    code, output = run("migrate-store", "--from", str(sqlite_store), "--to", target)
    assert code != 0 and message in output and "Traceback" not in output


def test_a_file_that_is_not_a_paperbot_store_is_refused_untouched(tmp_path: Path, postgres_url: str) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    code, output = run("migrate-store", "--from", str(other), "--to", postgres_url)
    assert code == 1 and "another program" in output and "Traceback" not in output
    missing = tmp_path / "missing.db"
    code, output = run("migrate-store", "--from", str(missing), "--to", postgres_url)
    assert code == 1 and "no paperbot store" in output and not missing.exists()
