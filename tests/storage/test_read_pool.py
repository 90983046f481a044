"""Reads use both cores: the configured read connections run statements at the same time."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot.client import PaperBot
from bot.domain.models import ListedPaper
from bot.services.container import open_services
from bot.settings import Settings
from bot.storage.database import Database


async def test_reads_on_the_pool_run_at_the_same_time(tmp_path: Path) -> None:
    """Each read blocks inside SQLite until all of them are running: on one connection (one
    thread) the first would wait for the others forever and break the barrier."""
    database = await Database.open(tmp_path / "pool.db", readers=3)
    meeting = threading.Barrier(3, timeout=30)
    try:
        for _ in range(3):
            await database.reader().create_function("rendezvous", 0, lambda: meeting.wait() + 1)

        async def read() -> int:
            async with database.connection.execute("SELECT rendezvous()") as cursor:
                row = await cursor.fetchone()
            assert row is not None
            return int(row[0])

        assert sorted(await asyncio.gather(read(), read(), read())) == [1, 2, 3]
    finally:
        await database.close()


async def test_the_bot_gets_the_configured_readers_and_enough_slots_to_keep_them_busy(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "bot.db", search={"readers": 3}, digest={"scheduler": False})
    async with open_services(settings, warm=False) as services:
        assert services.database.reader_count == 3
        bot = PaperBot(services=services, settings=settings)
        assert bot.tree.admission.policy.slots == 6  # type: ignore[attr-defined]


async def test_a_search_reads_each_query_in_one_hand_off_to_a_reader_thread(
    tmp_path: Path, sample_papers: list[ListedPaper], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under load every hand-off to a connection's thread is a wake-up of that thread and of the
    event loop: a query's rows come back in one (not execute, fetch and close: three)."""
    hand_offs: list[str] = []
    real = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        hand_offs.append(fn.__name__)
        return await real(self, fn, *args, **kwargs)

    settings = Settings(db=tmp_path / "bot.db", digest={"scheduler": False})
    async with open_services(settings, warm=False) as services:
        await services.papers.ingest(sample_papers)
        word = sample_papers[0].paper.title.split()[0]
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
        results = await services.papers.search.find(word)
        monkeypatch.undo()

    assert results.hits
    # each query (the window's floor with the count, the ranked matches, their rows) is one
    # hand-off that executes and fetches together (bot.storage.stoppable's, which a read given up
    # can stop): never execute, fetch and close apart
    assert hand_offs and set(hand_offs) == {"fetch_all"}
    assert len(hand_offs) <= 3
