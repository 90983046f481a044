"""PostgreSQL's server reports its own full disk (SQLSTATE 53100): the store is marked unwritable
for `paperbot health` as SQLite's is, and cleared only by a commit that wrote something."""

from __future__ import annotations

import pytest

from bot.domain.models import ListedPaper
from bot.errors import DiskFull
from bot.services.papers import PaperService
from bot.storage.postgres import PostgresDatabase

# What the server raises when it cannot extend a file (asyncpg.DiskFullError).
NO_ROOM = "DO $$ BEGIN RAISE EXCEPTION 'could not extend file' USING ERRCODE = 'disk_full'; END $$"


async def test_a_full_server_disk_marks_the_store_until_a_write_commits(
    postgres_url: str, sample_papers: list[ListedPaper]
) -> None:
    store = await PostgresDatabase.open(postgres_url)
    try:
        with pytest.raises(DiskFull, match="disk holding the database is full"):
            async with store.transaction():
                await store.connection.execute(NO_ROOM)
        refused = store.writes.unwritable
        assert refused is not None

        async with store.transaction():  # reads only: needs no room, proves none
            await store.connection.fetch_all("SELECT 1")
        assert store.writes.unwritable == refused

        await PaperService(store).ingest(sample_papers[:3])
        assert store.writes.unwritable is None
    finally:
        await store.close()
