"""``paperbot migrate-store``: a community's SQLite history moves to PostgreSQL whole, once."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.services.papers import PaperService
from bot.storage.follows import FollowRepository
from bot.storage.postgres import PostgresDatabase
from tests.migrate_store_fixtures import NOW, postgres_server, postgres_url, run, sqlite_store

__all__ = ["postgres_server", "postgres_url", "sqlite_store"]


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
    assert "papers: 69 rows, 69 added, 0 changed, 0 removed; digest " in output
    assert "alerts: 9 rows, 9 added, 0 changed, 0 removed; digest " in output
    assert "digest_posts: 2 rows, 2 added, 0 changed, 0 removed; digest " in output
    assert "every table's digest matches" in output and "MISMATCH" not in output
    code, again = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 0 and "papers: 69 rows, 0 added, 0 changed, 0 removed" in again
    assert " added, 0 changed, 0 removed" in again and not any(
        " 0 added, 0 changed, 0 removed" not in line for line in again.splitlines() if "; digest " in line
    )

    titles, suggested, follow_id = asyncio.run(_search_and_continue(postgres_url))
    assert titles and all("federated" in title.lower() for title in titles)  # searchable there
    assert suggested and "federated" in suggested[0].lower()  # and its titles suggested
    assert follow_id == 4  # new rows take ids after the 3 copied follows
    # A re-run makes PostgreSQL the file's copy again: the row only PostgreSQL had goes.
    code, later = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 0 and "follows: 3 rows, 0 added, 0 changed, 1 removed" in later


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
