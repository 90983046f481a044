"""A server's votes on both backends: one per member and paper, toggled, ranked per server."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import asyncpg

from bot.domain.models import ListedPaper
from bot.domain.momentum import Period, window
from bot.services.papers import PaperService
from bot.storage.postgres import PostgresDatabase
from bot.storage.votes import VoteRepository

DAY = date(2026, 1, 5)
NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)


async def test_votes_toggle_and_rank_the_windows_papers_per_server(
    service: PaperService, sample_papers: list[ListedPaper]
) -> None:
    await service.ingest(
        [ListedPaper(item.paper, DAY, rank) for rank, item in enumerate(sample_papers[:3], 1)]
    )
    first, second, third = [s.pk for s in await service.repository.listing(DAY, ("hf-page",))]
    votes = VoteRepository(service.database.connection)
    async with service.database.transaction():
        for paper, user in ((second, 1), (second, 2), (first, 1), (third, 3)):
            assert await votes.toggle(10, paper, user, NOW)
        assert not await votes.toggle(10, third, 3, NOW)  # a second vote takes it back
        assert await votes.toggle(20, third, 3, NOW)  # another server
    ranked = await votes.top(10, window(Period.WEEK, DAY), ("hf-page",), limit=10)
    assert [(v.stored.pk, v.votes) for v in ranked] == [(second, 2), (first, 1)]
    assert await votes.top(10, window(Period.WEEK, date(2025, 1, 5)), ("hf-page",), limit=10) == []
    assert await votes.last_vote(10) == NOW and await votes.last_vote(30) is None
    assert await votes.enabled(10)
    async with service.database.transaction():
        await votes.set_enabled(10, False)
    assert not await votes.enabled(10) and await votes.enabled(20)


async def _blocked_on_a_lock(url: str) -> None:
    """Until a session of this database waits for a lock another transaction holds (PostgreSQL)."""
    watcher = await asyncpg.connect(url)
    try:
        sql = (
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND a.datname = current_database()"
        )
        async with asyncio.timeout(60):
            while True:
                if await watcher.fetchval(sql):
                    return
                await asyncio.sleep(0.02)  # polling the server's state for an event, not timing anything
    finally:
        await watcher.close()


async def test_two_votes_at_once_count_as_two_votes_one_after_the_other(
    service: PaperService, sample_papers: list[ListedPaper]
) -> None:
    """A member choosing 👍 twice quickly (two devices, a double click): the second vote takes the
    first back, as when they come apart. On PostgreSQL the second used to find no vote to take
    back (the first not yet committed), insert its own, and fail on the first's key once that
    committed: an apology with an error reference instead of the vote taken back."""
    await service.ingest([ListedPaper(sample_papers[0].paper, DAY, 1)])
    [paper] = [s.pk for s in await service.repository.listing(DAY, ("hf-page",))]
    votes = VoteRepository(service.database.connection)
    first_voted = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> bool:
        async with service.database.transaction():
            voted = await votes.toggle(10, paper, 1, NOW)
            first_voted.set()
            await release_first.wait()
        return voted

    async def second() -> bool:
        async with service.database.transaction():
            return await votes.toggle(10, paper, 1, NOW)

    first_task = asyncio.create_task(first())
    await first_voted.wait()
    second_task = asyncio.create_task(second())
    if isinstance(service.database, PostgresDatabase):
        await _blocked_on_a_lock(service.database.url)  # the second waits on the first's vote
    release_first.set()
    assert (await first_task, await second_task) == (True, False)
    assert await votes.count(10, paper) == 0
