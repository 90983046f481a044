"""A limit holds when two commands add at once (both backends): a member's follows, a member's
library, a server's digests. On PostgreSQL two transactions used to count limit-1 together and
both insert (a 26th follow, an 11th digest); now the second waits for the first and is refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest

import bot.services.digest
import bot.services.library
from bot.domain.models import ListedPaper
from bot.errors import InvalidInput
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.connection import Store
from bot.storage.postgres import PostgresDatabase
from tests.conftest import FIXED_NOW

LIMIT = 2
GUILD = 10
MEMBER = 7


@pytest.fixture
async def services(database: Store) -> AsyncIterator[Services]:
    services = await Services.open(database, Settings(), clock=lambda: FIXED_NOW, warm=False)
    await services.papers.start()
    yield services


async def _blocked_or_done(url: str, second: asyncio.Task[Any]) -> None:
    """Until the second add waits for a lock the first holds, or (no lock: the old code) ends."""
    watcher = await asyncpg.connect(url)
    sql = (
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE NOT l.granted AND a.datname = current_database()"
    )
    try:
        async with asyncio.timeout(60):
            while True:
                if second.done() or await watcher.fetchval(sql):
                    return
                await asyncio.sleep(0.02)  # polling the server's state for an event, not timing anything
    finally:
        await watcher.close()


async def _two_at_once(
    database: Store, repository: object, insert: str, first: Awaitable[Any], second: Awaitable[Any]
) -> list[Any]:
    """Run ``first`` until it inserts (its limit checked, its transaction open), start ``second``,
    and let ``first`` commit once ``second`` waits for it (or, unlocked, has finished)."""
    inserting = asyncio.Event()
    release = asyncio.Event()
    original: Callable[..., Awaitable[Any]] = getattr(repository, insert)

    async def paused_once(*args: Any, **kwargs: Any) -> Any:
        if not inserting.is_set():
            inserting.set()
            await release.wait()
        return await original(*args, **kwargs)

    setattr(repository, insert, paused_once)
    first_task = asyncio.ensure_future(first)
    await inserting.wait()
    second_task = asyncio.ensure_future(second)
    if isinstance(database, PostgresDatabase):
        await _blocked_or_done(database.url, second_task)
    release.set()
    return list(await asyncio.gather(first_task, second_task, return_exceptions=True))


def _one_refused(outcomes: list[Any]) -> None:
    refused = [o for o in outcomes if isinstance(o, InvalidInput)]
    assert len(refused) == 1, outcomes
    assert "the most allowed" in str(refused[0])
    assert all(not isinstance(o, BaseException) for o in outcomes if o is not refused[0]), outcomes


async def test_two_follows_at_once_at_the_limit_store_one(services: Services, database: Store) -> None:
    follows = services.follows
    follows.max_follows = LIMIT
    await follows.add(MEMBER, GUILD, "diffusion")
    outcomes = await _two_at_once(
        database,
        follows.repository,
        "add_follow",
        follows.add(MEMBER, GUILD, "robotics"),
        follows.add(MEMBER, GUILD, "retrieval"),
    )
    _one_refused(outcomes)
    assert len(await follows.repository.follows(MEMBER)) == LIMIT


async def test_two_saves_at_once_at_the_limit_store_one(
    services: Services, database: Store, sample_papers: list[ListedPaper], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.services.library, "MAX_SAVED", LIMIT)
    await services.papers.ingest(sample_papers[:3])
    ids = [p.paper.id for p in sample_papers[:3]]
    library = services.library
    await library.save(MEMBER, ids[0], guild_id=GUILD)
    outcomes = await _two_at_once(
        database,
        library.repository,
        "save",
        library.save(MEMBER, ids[1], guild_id=GUILD),
        library.save(MEMBER, ids[2], guild_id=GUILD),
    )
    _one_refused(outcomes)
    assert await library.repository.count(MEMBER) == LIMIT


async def test_two_digests_at_once_at_the_limit_store_one(
    services: Services, database: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.services.digest, "MAX_DIGESTS_PER_SERVER", LIMIT)
    digests = services.digests
    await digests.configure(GUILD, 100, post_time="09:00", timezone="UTC")
    outcomes = await _two_at_once(
        database,
        digests.repository,
        "save_config",
        digests.configure(GUILD, 101, post_time="09:00", timezone="UTC"),
        digests.configure(GUILD, 102, post_time="09:00", timezone="UTC"),
    )
    _one_refused(outcomes)
    assert len(await digests.repository.configs(GUILD)) == LIMIT
