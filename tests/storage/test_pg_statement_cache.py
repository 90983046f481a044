"""PostgreSQL statements are prepared once per connection (asyncpg's statement cache), not before
each execution (two round trips a statement), and still planned for each execution's values; a
statement cached before another process's migration changed its table keeps answering."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from bot.errors import StorageUnavailable
from bot.storage.postgres import SCHEMA_CHANGED, PostgresDatabase, numbered
from tests.backends import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]

ASKED = "SELECT ? + 1 AS answer"


@pytest.fixture
async def store(postgres_url: str) -> AsyncIterator[PostgresDatabase]:
    database = await PostgresDatabase.open(postgres_url)
    yield database
    await database.close()


async def test_a_statement_run_again_is_prepared_once_and_planned_for_its_values(
    store: PostgresDatabase,
) -> None:
    async with store.transaction() as connection:  # one connection, whose statements the server lists
        answers = [(await connection.fetch_all(ASKED, (n,)))[0]["answer"] for n in range(8)]
        prepared = await connection.fetch_all(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = ?",
            (numbered(ASKED),),
        )
    assert answers == list(range(1, 9))
    # Prepared before each run, it was 8 statements of one run each (an extra round trip each).
    # Planned for each run's values: after 5 runs the server would otherwise keep a generic plan.
    assert [tuple(row) for row in prepared] == [(0, 8)]


async def test_a_statement_cached_before_a_migration_elsewhere_answers_with_the_new_table(
    store: PostgresDatabase,
) -> None:
    async with store.transaction() as connection:
        await connection.execute("CREATE TABLE shelf (title text)")
        await connection.execute("INSERT INTO shelf VALUES ('Attention')")
    assert [tuple(r) for r in await store.connection.fetch_all("SELECT * FROM shelf")] == [("Attention",)]
    async with store.transaction() as connection:
        await connection.fetch_all("SELECT * FROM shelf")

    other = await asyncpg.connect(store.url)  # another paperbot's migration
    try:
        await other.execute("ALTER TABLE shelf ADD COLUMN year int DEFAULT 2017")
    finally:
        await other.close()

    # Outside a transaction asyncpg prepares it again at once; inside one it fails once, said so.
    assert [tuple(r) for r in await store.connection.fetch_all("SELECT * FROM shelf")] == [
        ("Attention", 2017)
    ]
    await store.connection.execute("ALTER TABLE shelf ADD COLUMN pages int DEFAULT 11")
    with pytest.raises(StorageUnavailable) as raised:
        async with store.transaction() as connection:
            await connection.fetch_all("SELECT * FROM shelf")
    assert str(raised.value) == SCHEMA_CHANGED
    async with store.transaction() as connection:
        rows = await connection.fetch_all("SELECT * FROM shelf")
    assert [tuple(r) for r in rows] == [("Attention", 2017, 11)]
