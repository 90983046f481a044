"""An ingest on PostgreSQL keeps the title table's trigger rows in memory (bot.storage.pg_bulk's
TRIGGER_ROWS_MEMORY): with the server's default work_mem, a batch of 2,000 papers wrote its
transition table (each whole row, search vector included) to a temporary file on the server and read
it back, about 3 kB of disk a paper, on every ingest big enough to fill a batch."""

from __future__ import annotations

from contextlib import AsyncExitStack

import asyncpg

from bot.services.papers import BATCH_SIZE, PaperService
from bot.storage.postgres import PostgresDatabase
from tests.conftest import FIXED_NOW
from tests.storage.test_pg_ingest_equivalence import assert_search_columns_rebuild, many


async def temporary_files(store: PostgresDatabase) -> int:
    """Temporary files the server's backends wrote for this database so far (each pooled
    connection first hands its pending statistics to the server)."""
    async with AsyncExitStack() as stack:
        for _ in range(store.reader_count):
            connection = await stack.enter_async_context(store.acquired())
            await connection.execute("SELECT pg_stat_force_next_flush()")
    reader = await asyncpg.connect(store.url)
    try:
        sql = "SELECT temp_files FROM pg_stat_database WHERE datname = current_database()"
        return int(await reader.fetchval(sql))
    finally:
        await reader.close()


async def test_a_full_ingest_batch_writes_no_temporary_file_on_the_server(postgres_url: str) -> None:
    store = await PostgresDatabase.open(postgres_url)
    service = PaperService(store, clock=lambda: FIXED_NOW)
    await service.start()
    try:
        batch = many(BATCH_SIZE)  # one full upsert batch (and a hundred re-listed in the next)
        before = await temporary_files(store)
        counts = await service.ingest(batch)
        assert counts.new == BATCH_SIZE
        assert await temporary_files(store) == before
        # The trigger still filled the title table from every new row.
        await assert_search_columns_rebuild(store)
    finally:
        await store.close()
