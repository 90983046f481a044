"""What the community is reading: top papers of a period and papers rising now (see bot.domain.momentum)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.domain.models import DAILY_LIST_SOURCES, Paper
from bot.domain.momentum import (
    RISING_HOURS,
    RISING_LIST_DAYS,
    Period,
    Window,
    rank_rising,
    window,
)
from bot.errors import NoListing
from bot.storage.momentum import MomentumRepository
from bot.storage.papers import PaperRepository
from bot.storage.votes import VoteRepository

RANKING_LIMIT = 50  # five pages of ten


@dataclass(frozen=True, slots=True)
class Ranked:
    paper: Paper
    upvotes: int | None
    comments: int | None = None
    stars: int | None = None
    gain: int | None = None  # rising: upvotes gained in the last 24 h
    votes: int | None = None  # scope:server: the server's own 👍 votes


@dataclass(frozen=True, slots=True)
class Ranking:
    """One ranking, ready to render: what it covers, its entries, and how fresh the counts are."""

    title: str
    covers: str  # "2026-07-24 to 2026-07-30", "the last 24 hours"
    entries: list[Ranked]
    listed: int  # papers on the lists the ranking chose from
    updated_at: datetime | None  # when these counts were last taken (None: never)
    counted: str = "upvotes"  # or "votes": the server's own


class MomentumService:
    def __init__(
        self,
        momentum: MomentumRepository,
        papers: PaperRepository,
        *,
        clock: Callable[[], datetime],
        votes: VoteRepository,
    ) -> None:
        self._momentum = momentum
        self._papers = papers
        self._clock = clock
        self._votes = votes

    async def _window(self, period: Period, day: date | None) -> Window:
        """The period's lists, ending at ``day`` or the newest list."""
        anchor = day or await self._papers.latest_list_date(
            DAILY_LIST_SOURCES, on_or_before=self._clock().date()
        )
        if anchor is None:
            raise NoListing("No daily list is stored yet: there is nothing to rank.")
        return window(period, anchor)

    async def top(self, period: Period, day: date | None = None, *, limit: int = RANKING_LIMIT) -> Ranking:
        """The most upvoted papers of the period's lists (ending at ``day`` or the newest list)."""
        span = await self._window(period, day)
        counted = await self._momentum.top(span, DAILY_LIST_SOURCES, limit=limit)
        if not counted:
            raise NoListing(f"No daily list is stored for {span.describe()}.")
        entries = [Ranked(c.stored.paper, c.upvotes, c.comments, c.stars) for c in counted]
        return Ranking(
            title=_top_title(span),
            covers=span.describe(),
            entries=entries,
            listed=await self._momentum.count_listed(span, DAILY_LIST_SOURCES),
            updated_at=await self._momentum.last_updated(span.start, span.end, DAILY_LIST_SOURCES),
        )

    async def server_top(
        self, guild_id: int, period: Period, day: date | None = None, *, limit: int = RANKING_LIMIT
    ) -> Ranking:
        """The period's papers this server voted for (👍 on its digests), most votes first."""
        span = await self._window(period, day)
        voted = await self._votes.top(guild_id, span, DAILY_LIST_SOURCES, limit=limit)
        return Ranking(
            title=f"{_top_title(span)} in this server",
            covers=span.describe(),
            entries=[Ranked(v.stored.paper, None, votes=v.votes) for v in voted],
            listed=await self._momentum.count_listed(span, DAILY_LIST_SOURCES),
            updated_at=await self._votes.last_vote(guild_id),
            counted="votes",
        )

    async def rising(self, *, limit: int = RANKING_LIMIT) -> Ranking:
        """Papers of the last week's lists that gained most upvotes in the last 24 h, for their age."""
        now = self._clock()
        since = now.date() - timedelta(days=RISING_LIST_DAYS - 1)
        cutoff = now - timedelta(hours=RISING_HOURS)
        histories = await self._momentum.upvote_histories(since, DAILY_LIST_SOURCES, cutoff=cutoff, now=now)
        ranked = rank_rising(histories, now, limit=limit)
        counted = await self._momentum.counted([r.pk for r in ranked])
        entries = [
            Ranked(
                counted[r.pk].stored.paper,
                counted[r.pk].upvotes,
                counted[r.pk].comments,
                counted[r.pk].stars,
                gain=r.gain,
            )
            for r in ranked
            if r.pk in counted
        ]
        return Ranking(
            title="Rising papers",
            covers=f"upvotes gained in the last {RISING_HOURS} hours, lists since {since.isoformat()}",
            entries=entries,
            listed=len(histories),
            updated_at=await self._momentum.last_updated(since, now.date(), DAILY_LIST_SOURCES),
        )

    async def recent_list_days(self, limit: int) -> list[date]:
        return await self._momentum.list_days(DAILY_LIST_SOURCES, limit=limit)


def _top_title(span: Window) -> str:
    if span.period is Period.DAY:
        return f"Top papers · {span.end.strftime('%A %d %B %Y')}"
    return f"Top papers of the {span.period.value}"
