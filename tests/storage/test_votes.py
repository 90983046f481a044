"""A server's votes on both backends: one per member and paper, toggled, ranked per server."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.domain.models import ListedPaper
from bot.domain.momentum import Period, window
from bot.services.papers import PaperService
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
