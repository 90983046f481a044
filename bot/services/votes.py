"""Votes in Discord: a member's 👍 on a digest entry, counted per server, toggled by voting again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.domain.ids import parse_arxiv_id
from bot.errors import InvalidInput, PaperNotFound
from bot.storage.connection import Store
from bot.storage.papers import PaperRepository
from bot.storage.votes import VoteRepository

IN_A_SERVER = "Votes count per server: vote on a digest in a server."
VOTES_OFF = "This server turned votes off (an admin can turn them on with /digest setup votes:true)."


@dataclass(frozen=True, slots=True)
class Vote:
    paper_id: str
    title: str
    voted: bool  # False: the member's vote was taken back
    count: int  # the server's votes for the paper now


class VoteService:
    def __init__(
        self,
        database: Store,
        votes: VoteRepository,
        papers: PaperRepository,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self.database = database
        self._votes = votes
        self._papers = papers
        self._clock = clock

    async def toggle(self, guild_id: int | None, user_id: int, paper_id: str) -> Vote:
        """Vote for a paper in this server, or take the vote back (one per member and paper)."""
        if guild_id is None:
            raise InvalidInput(IN_A_SERVER)
        if not await self._votes.enabled(guild_id):  # a menu posted before votes were turned off
            raise InvalidInput(VOTES_OFF)
        stored = await self._papers.get(parse_arxiv_id(paper_id) or paper_id.strip())
        if stored is None:
            raise PaperNotFound(paper_id)
        async with self.database.transaction():
            voted = await self._votes.toggle(guild_id, stored.pk, user_id, self._clock())
            count = await self._votes.count(guild_id, stored.pk)
        return Vote(stored.paper.id, stored.paper.title, voted, count)

    async def enabled(self, guild_id: int | None) -> bool:
        return guild_id is not None and await self._votes.enabled(guild_id)

    async def set_enabled(self, guild_id: int, enabled: bool) -> None:
        async with self.database.transaction():
            await self._votes.set_enabled(guild_id, enabled)
