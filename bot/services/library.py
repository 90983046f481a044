"""A member's library: save, list, mark read, tag, note, remove, export. Each use case one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from rapidfuzz import fuzz, process

from bot.domain.library import (
    MAX_SAVED,
    LibraryEntry,
    ReadFilter,
    parse_note,
    parse_tag,
    parse_tags,
)
from bot.domain.models import Paper
from bot.domain.text import fold
from bot.errors import InvalidInput, PaperNotFound
from bot.exports import ExportFormat, render
from bot.services.papers import PaperService
from bot.services.similar import SimilarPapers
from bot.storage.connection import Store
from bot.storage.follows import FollowRepository
from bot.storage.library import LibraryRepository

PICKS = 8
PICK_DAYS = 7
PICK_SEEDS = 20  # newest saved papers that picks are matched against
NOT_SAVED = "That paper is not in your library: save it first (the Save button, or /library save)."


@dataclass(frozen=True, slots=True)
class Saved:
    paper_id: str
    title: str
    created: bool  # False: it was in the library already


@dataclass(frozen=True, slots=True)
class LibraryPage:
    entries: list[LibraryEntry]
    page: int  # 1-based
    page_count: int
    total: int


@dataclass(frozen=True, slots=True)
class Pick:
    """A new paper picked for a member, and the saved paper it is most like (the reason)."""

    paper: Paper
    like: str  # title of the saved paper
    score: float


@dataclass(frozen=True, slots=True)
class Export:
    filename: str
    data: bytes
    count: int


class LibraryService:
    def __init__(
        self,
        database: Store,
        repository: LibraryRepository,
        paper_service: PaperService,
        similar: SimilarPapers,
        *,
        clock: Callable[[], datetime],
        members: FollowRepository,
    ) -> None:
        self.database = database
        self._members = members  # saving from a server records it for DMs
        self.repository = repository
        self._paper_service = paper_service  # the one paper resolver
        self._similar = similar
        self._clock = clock

    async def save(self, user_id: int, reference: str, *, guild_id: int | None = None) -> Saved:
        """Save a paper; from a server, that server is remembered as one where the member can be
        sent DMs (as /follow does): changes to saved papers come with their alerts."""
        stored = await self._paper_service.resolve(reference)
        async with self.database.transaction():
            await self.repository.hold_library_limit(user_id)
            if guild_id is not None:
                await self._members.ensure_member(user_id, guild_id, self._clock())
            saved_before = await self.repository.get(user_id, stored.pk) is not None
            if not saved_before and await self.repository.count(user_id) >= MAX_SAVED:
                raise InvalidInput(
                    f"Your library holds {MAX_SAVED} papers, the most allowed: remove some first."
                )
            created = await self.repository.save(user_id, stored.pk, self._clock())
        return Saved(stored.paper.id, stored.paper.title, created)

    async def _saved_pk(self, user_id: int, reference: str) -> tuple[int, str]:
        """A paper of the member's library: a title (or part of one) is looked for among theirs."""
        try:
            stored = await self._paper_service.resolve(reference, among=await self.repository.titles(user_id))
        except PaperNotFound:
            raise InvalidInput(NOT_SAVED) from None
        return stored.pk, stored.paper.title

    async def remove(self, user_id: int, reference: str) -> str:
        pk, title = await self._saved_pk(user_id, reference)
        async with self.database.transaction():
            if not await self.repository.remove(user_id, pk):
                raise InvalidInput(NOT_SAVED)
        return title

    async def mark(self, user_id: int, reference: str, *, read: bool) -> str:
        pk, title = await self._saved_pk(user_id, reference)
        async with self.database.transaction():
            if not await self.repository.set_read(user_id, pk, self._clock() if read else None):
                raise InvalidInput(NOT_SAVED)
        return title

    async def tag(self, user_id: int, reference: str, text: str) -> tuple[str, tuple[str, ...]]:
        tags = parse_tags(text)
        pk, title = await self._saved_pk(user_id, reference)
        async with self.database.transaction():
            if not await self.repository.set_tags(user_id, pk, tags):
                raise InvalidInput(NOT_SAVED)
        return title, tags

    async def note(self, user_id: int, reference: str, text: str) -> tuple[str, str | None]:
        note = parse_note(text)
        pk, title = await self._saved_pk(user_id, reference)
        async with self.database.transaction():
            if not await self.repository.set_note(user_id, pk, note):
                raise InvalidInput(NOT_SAVED)
        return title, note

    async def page(
        self,
        user_id: int,
        status: ReadFilter = ReadFilter.ALL,
        tag: str | None = None,
        *,
        page: int = 1,
        page_size: int = 10,
    ) -> LibraryPage:
        folded = parse_tag(tag) if tag else None
        total = await self.repository.count(user_id, status, folded)
        page_count = max(1, -(-total // page_size))
        page = min(max(1, page), page_count)
        entries = await self.repository.entries(
            user_id, status, folded, limit=page_size, offset=(page - 1) * page_size
        )
        return LibraryPage(entries, page, page_count, total)

    async def choices(self, user_id: int, typed: str, limit: int = 25) -> list[tuple[str, str]]:
        """(paper id, title) from the member's own library for what they typed, best first."""
        saved = await self.repository.titles(user_id)
        typed = fold(typed).strip()
        if not typed:
            return saved[:limit]
        titles = {index: fold(title) for index, (_, title) in enumerate(saved)}
        # Titles holding what was typed come first (newest saved first); then near misses (typos).
        exact = [index for index, title in titles.items() if typed in title]
        fuzzy = process.extract(typed, titles, scorer=fuzz.WRatio, limit=limit, score_cutoff=60)
        ranked = dict.fromkeys([*exact, *(index for _, _, index in fuzzy)])
        return [saved[index] for index in list(ranked)[:limit]]

    async def export(self, user_id: int, fmt: ExportFormat, tag: str | None = None) -> Export:
        folded = parse_tag(tag) if tag else None
        entries = await self.repository.every_entry(user_id, folded)
        if not entries:
            what = f" tagged “{folded}”" if folded else ""
            raise InvalidInput(f"Your library has no papers{what} to export yet.")
        # Writing thousands of long entries is seconds of pure Python: on a worker thread the event
        # loop keeps answering other members and the gateway's heartbeats meanwhile.
        filename, data = await asyncio.to_thread(render, fmt, entries)
        return Export(filename, data, len(entries))

    # ---- picks for you ------------------------------------------------------------------------

    async def picks(self, user_id: int, limit: int = PICKS) -> list[Pick]:
        """New papers (added in the last ``PICK_DAYS`` days) closest to the member's newest saved
        papers, leaving out what they saved or a follow alert already brought them; best first."""
        floor = await self.repository.first_pk_since(self._clock() - timedelta(days=PICK_DAYS))
        if floor is None:
            return []
        seeds = await self.repository.entries(user_id, ReadFilter.ALL, None, limit=PICK_SEEDS)
        if not seeds:
            return []
        skip = await self.repository.saved_pks(user_id) | await self.repository.alerted_pks(user_id)
        best: dict[str, Pick] = {}
        for seed in seeds:
            for hit in await self._similar.similar(seed.paper, limit, min_pk=floor, exclude=skip):
                known = best.get(hit.paper.id)
                if known is None or hit.score > known.score:
                    best[hit.paper.id] = Pick(hit.paper, seed.paper.title, hit.score)
        return sorted(best.values(), key=lambda pick: -pick.score)[:limit]

    async def set_weekly(self, user_id: int, on: bool, *, guild_id: int | None = None) -> bool:
        """Turn the weekly DM on or off; run from a server, that server is remembered as one where
        the member can be sent DMs (as a save or /follow does). Returns whether any such server is
        known: without one no weekly DM can go out."""
        async with self.database.transaction():
            if guild_id is not None:
                await self._members.ensure_member(user_id, guild_id, self._clock())
            await self.repository.set_weekly(user_id, on)
            return bool(await self._members.member_guilds(user_id))

    async def weekly_due(self) -> list[int]:
        """Members with weekly picks on who have had none this week (UTC)."""
        return await self.repository.weekly_due(iso_week(self._clock()))


def iso_week(when: datetime) -> str:
    year, week, _ = when.isocalendar()
    return f"{year}-W{week:02d}"
