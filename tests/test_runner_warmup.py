"""A running bot reads what searches need in the background after start-up (search.warm_indexes):
serving and heartbeats go on while it reads, a stop in the middle of it ends it without an error
and leaves nothing behind on the database server, and turned off it reads nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from bot import runner
from bot.client import PaperBot
from bot.domain.models import ListedPaper
from bot.health import read_heartbeat
from bot.services.container import Services, open_services
from bot.settings import Settings
from bot.storage import index_warmup, pg_warmup
from tests.backends import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]


async def _until(condition: Callable[[], Awaitable[bool]], wait: float = 60) -> None:
    async with asyncio.timeout(wait):
        while True:
            if await condition():
                return
            await asyncio.sleep(0.02)  # polling the server's state for an event, not timing anything


async def _warm_up_backends(watcher: asyncpg.Connection, *, waiting_for_papers: bool = False) -> int:
    """The warm-up's connections on the server (``waiting_for_papers``: those waiting for the
    papers table's lock). ``watcher`` is in no transaction: its view of the server is current."""
    sql = "SELECT count(*) FROM pg_stat_activity AS a WHERE a.application_name = $1"
    if waiting_for_papers:
        sql += (
            " AND EXISTS (SELECT 1 FROM pg_locks AS l WHERE l.pid = a.pid AND NOT l.granted "
            "AND l.relation = 'papers'::regclass)"
        )
    return int(await watcher.fetchval(sql, pg_warmup.APPLICATION_NAME))


async def _gone(watcher: asyncpg.Connection) -> bool:
    return await _warm_up_backends(watcher) == 0


async def test_serving_goes_on_while_the_store_is_read_and_a_stop_ends_the_reading(
    postgres_url: str,
    tmp_path: Path,
    sample_papers: list[ListedPaper],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    heartbeat = tmp_path / "heartbeat.json"
    settings = Settings(
        database_url=postgres_url,
        discord_token="not-a-token",
        digest={"scheduler": False},
        health={"file": heartbeat},
    )
    # Another session holds the papers table: the warm-up reads the indexes, then waits mid-read.
    holder, watcher = await asyncpg.connect(postgres_url), await asyncpg.connect(postgres_url)
    served_while_reading = False

    async def written() -> bool:
        return heartbeat.exists()

    async def serve_while_the_warm_up_waits(self: PaperBot, token: str, *, reconnect: bool = True) -> None:
        nonlocal served_while_reading
        await _until(lambda: _warm_up_backends(watcher, waiting_for_papers=True))
        await _until(written)
        served_while_reading = not read_heartbeat(heartbeat).stopped
        # Returning: the bot's connection ended, so it stops, the warm-up still waiting.

    monkeypatch.setattr(PaperBot, "start", serve_while_the_warm_up_waits)
    caplog.set_level(logging.INFO)
    try:
        async with open_services(settings, warm=False) as services:
            await services.papers.ingest(sample_papers)
            async with holder.transaction():
                await holder.execute("LOCK TABLE papers IN ACCESS EXCLUSIVE MODE")
                await runner._serve(services, settings)
                # Stopped with the table still held: the warm-up's statement was cancelled, and
                # its connection (with the warm-up lock) is gone from the server.
                await _until(lambda: _gone(watcher))
            assert await holder.fetchval("SELECT pg_try_advisory_lock($1)", pg_warmup.WARM_LOCK)
    finally:
        await holder.close()
        await watcher.close()
    assert served_while_reading
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert not any("read ahead" in record.getMessage() for record in caplog.records)


@pytest.fixture(params=["sqlite", "postgres"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    store = (
        {"database_url": request.getfixturevalue("postgres_url")}
        if request.param == "postgres"
        else {"db": tmp_path / "bot.db"}
    )
    return Settings(
        **store,  # type: ignore[arg-type]
        discord_token="not-a-token",
        digest={"scheduler": False},
        search={"warm_indexes": False},
    )


async def test_turned_off_the_bot_reads_nothing_ahead(
    store_settings: Settings, sample_papers: list[ListedPaper], monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    real_sqlite_read, real_postgres_read = index_warmup.read_indexes, pg_warmup._warm
    monkeypatch.setattr(
        index_warmup, "read_indexes", lambda *a: reads.append("sqlite") or real_sqlite_read(*a)
    )

    async def postgres_read(connection: asyncpg.Connection) -> pg_warmup.PgWarmed:
        reads.append("postgres")
        return await real_postgres_read(connection)

    monkeypatch.setattr(pg_warmup, "_warm", postgres_read)
    tended = asyncio.Event()
    real_merge = runner._merge_indexes

    async def merge_then_tell(services: Services, settings: Settings) -> None:
        await real_merge(services, settings)  # the step after the warm-up's
        tended.set()

    async def serve_until_tended(self: PaperBot, token: str, *, reconnect: bool = True) -> None:
        await tended.wait()

    monkeypatch.setattr(runner, "_merge_indexes", merge_then_tell)
    monkeypatch.setattr(PaperBot, "start", serve_until_tended)
    async with open_services(store_settings, warm=False) as services:
        await services.papers.ingest(sample_papers)
        await runner._serve(services, store_settings)

    assert reads == []
