"""Paper use cases: ingest, look-up, random, daily lists, statistics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from bot.domain.ids import parse_arxiv_id
from bot.domain.models import DAILY_LIST_SOURCES, ListedPaper, Paper
from bot.domain.query import Mode, parse_search, to_fts
from bot.errors import InvalidInput, NoListing, PaperNotFound
from bot.services.search import SearchEngine
from bot.storage.connection import Store
from bot.storage.generations import GenerationRepository
from bot.storage.papers import PaperRepository, StoredPaper, UpsertCounts

BATCH_SIZE = 2000
Progress = Callable[[int], None]
InsertedHook = Callable[[Sequence[StoredPaper]], Awaitable[None]]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class DailyList:
    day: date
    papers: list[Paper]


@dataclass(frozen=True, slots=True)
class Stats:
    papers: int
    by_source: dict[str, int]
    list_days: int
    first_list: date | None
    latest_list: date | None
    schema_version: int


class PaperService:
    def __init__(
        self,
        database: Store,
        repository: PaperRepository | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        generations: GenerationRepository | None = None,
    ) -> None:
        self.database = database
        self.repository = repository or PaperRepository.of(database)
        self._generations = generations or GenerationRepository.of(database)
        self._generation = -1  # of the papers the search vocabulary was built from
        self.search = SearchEngine(self.repository)
        self._clock = clock
        self._inserted_hooks: list[InsertedHook] = []
        self._code_linked_hooks: list[InsertedHook] = []

    def now(self) -> datetime:
        return self._clock()

    def on_inserted(self, hook: InsertedHook) -> None:
        """Run ``hook`` with the newly added papers inside every ingest's transaction."""
        self._inserted_hooks.append(hook)

    def on_code_linked(self, hook: InsertedHook) -> None:
        """Run ``hook`` with stored papers that just gained a code link, inside the ingest's transaction."""
        self._code_linked_hooks.append(hook)

    async def start(self) -> None:
        self._generation = await self._generations.current("papers")
        await self.search.refresh()

    async def refresh_if_changed(self) -> bool:
        """Rebuild the title vocabulary (autocomplete, typo correction) if papers changed since it
        was built, also by another process (a CLI ingest). True if it was rebuilt."""
        current = await self._generations.current("papers")
        if current == self._generation:
            return False
        self._generation = current
        await self.search.refresh()
        return True

    async def ingest(
        self, listed: Sequence[ListedPaper], *, progress: Progress | None = None
    ) -> UpsertCounts:
        """Store papers in one transaction: a failure part-way writes nothing."""
        counts = UpsertCounts()
        now = self._clock()
        async with self.database.transaction():
            for start in range(0, len(listed), BATCH_SIZE):
                batch = listed[start : start + BATCH_SIZE]
                counts += await self.repository.upsert(batch, now)
                if progress:
                    progress(len(batch))
            for hook in self._inserted_hooks:
                await hook(counts.inserted)
            if counts.code_linked:
                for hook in self._code_linked_hooks:
                    await hook(counts.code_linked)
            generation = await self._generations.bump("papers") if counts.new or counts.updated else None
        if generation is not None:
            # Other processes notice the bump; this one refreshes now (and skips the next check).
            await self.search.refresh()
            self._generation = generation
        return counts

    async def show(self, reference: str) -> Paper:
        """A paper by canonical id, arXiv id (any version), arXiv/HF URL, or exact title."""
        reference = reference.strip()
        if not reference:
            raise InvalidInput("Give a paper id, arXiv link or title.")
        key = parse_arxiv_id(reference) or reference
        stored = await self.repository.get(key)
        if stored is None:
            hits = await self.search.suggest(reference, limit=1)
            exact = hits and hits[0].title.casefold() == reference.casefold()
            stored = await self.repository.get(hits[0].paper_id) if exact else None
        if stored is None:
            raise PaperNotFound(reference)
        return stored.paper

    async def random(self, topic: str | None = None) -> Paper | None:
        query = parse_search(topic or "")
        if topic and not query:
            raise InvalidInput("That topic has no words to look for.")
        stored = await self.repository.random(to_fts(query, Mode.ALL) if query else None)
        return stored.paper if stored else None

    async def daily_list(self, day: date | None = None) -> DailyList:
        chosen = day or await self.repository.latest_list_date(DAILY_LIST_SOURCES)
        if chosen is None:
            raise NoListing("No daily list is stored yet: ingest one first.")
        papers = await self.repository.listing(chosen, DAILY_LIST_SOURCES)
        if not papers:
            latest = await self.repository.latest_list_date(DAILY_LIST_SOURCES)
            hint = f" The latest list is from {latest.isoformat()}." if latest else ""
            raise NoListing(f"No daily list is stored for {chosen.isoformat()}.{hint}")
        return DailyList(chosen, [stored.paper for stored in papers])

    async def stats(self) -> Stats:
        days, first, latest = await self.repository.listing_span()
        return Stats(
            papers=await self.repository.count(),
            by_source=await self.repository.source_counts(),
            list_days=days,
            first_list=first,
            latest_list=latest,
            schema_version=await self.database.schema_version(),
        )
