"""A read nobody waits for any more stops where it is: the search gives up its ranked query when
the phrase alone fills the page, and that query must neither finish for nothing nor keep the read
connection from the reads queued behind it."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from bot.storage.database import Database

# Counts for ever (a recursive CTE without an end), once it has said that it started.
ENDLESS = "WITH RECURSIVE n(x) AS (SELECT began() UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"
# How long a read may take before the test calls the connection stuck (a guard, not a timing).
STUCK_SECONDS = 60


async def test_a_read_given_up_stops_and_the_next_read_on_its_connection_runs(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "store.db", readers=1)  # every read on one connection
    began = threading.Event()
    reader = database.reader()
    await reader.create_function("began", 0, lambda: began.set() or 1)
    try:
        endless = asyncio.create_task(database.connection.fetch_all(ENDLESS))
        assert await asyncio.to_thread(began.wait, STUCK_SECONDS)
        endless.cancel()
        answered = await asyncio.wait_for(database.connection.fetch_all("SELECT 41 + 1"), STUCK_SECONDS)
        assert [tuple(row) for row in answered] == [(42,)]
        assert endless.cancelled()
    finally:
        await reader.interrupt()  # when the read did not stop, so that the store still closes
        await database.close()


async def test_a_read_given_up_before_it_started_never_runs(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "store.db", readers=1)
    began = threading.Event()
    ran: list[str] = []
    reader = database.reader()
    await reader.create_function("began", 0, lambda: began.set() or 1)
    await reader.create_function("ran", 1, lambda name: ran.append(name) or 1)
    try:
        endless = asyncio.create_task(database.connection.fetch_all(ENDLESS))
        assert await asyncio.to_thread(began.wait, STUCK_SECONDS)
        queued = asyncio.create_task(database.connection.fetch_all("SELECT ran('given up')"))
        await asyncio.sleep(0)  # let it queue behind the endless read
        queued.cancel()
        endless.cancel()
        answered = await asyncio.wait_for(
            database.connection.fetch_all("SELECT ran('wanted')"), STUCK_SECONDS
        )
        assert [tuple(row) for row in answered] == [(1,)]
        assert ran == ["wanted"]
    finally:
        await reader.interrupt()
        await database.close()
