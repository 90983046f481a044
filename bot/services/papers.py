"""Paper use cases: ingest, look-up, random, daily lists, statistics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime

from bot.domain.ids import parse_arxiv_id
from bot.domain.models import DAILY_LIST_SOURCES, ListedPaper, Paper
from bot.domain.query import Mode, parse_search, to_fts
from bot.domain.references import named_title
from bot.errors import InvalidInput, NoListing, PaperNotFound, PartlyStored
from bot.services.frozen_heap import older_objects_frozen
from bot.services.search import (
    ANSWER_CACHE_SIZE,
    POSTGRES_SEARCH_CANDIDATES,
    POSTGRES_SUGGESTION_CANDIDATES,
    SEARCH_CANDIDATES,
    SUGGESTION_CANDIDATES,
    SearchEngine,
)
from bot.storage.connection import Store
from bot.storage.generations import GenerationRepository
from bot.storage.papers import PaperRepository, StoredPaper, UpsertCounts

BATCH_SIZE = 2000
SUGGESTIONS = 25  # the titles a typed partial title is matched against (as many as autocomplete shows)
# A batched ingest (the CLI's) commits about this many papers at a time and then leaves the write
# lock free for a moment, so the running bot's writes, which poll for it every few milliseconds
# (bot.storage.database.WRITE_POLL_SECONDS), get in between: a member's /follow add waits for one
# batch (a fraction of a second), not for the whole ingest. Bigger batches ingest a little faster.
COMMIT_PAPERS = 2000
BETWEEN_COMMITS_SECONDS = 0.02
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
        answer_cache: int = ANSWER_CACHE_SIZE,
    ) -> None:
        self.database = database
        self.repository = repository or PaperRepository.of(database)
        self._generations = generations or GenerationRepository.of(database)
        self._generation = -1  # of the papers the search vocabulary was built from
        self._catching_up = asyncio.Lock()  # one vocabulary change at a time, each from the last
        postgres = database.dialect.postgres
        self.search = SearchEngine(
            self.repository,
            search_candidates=POSTGRES_SEARCH_CANDIDATES if postgres else SEARCH_CANDIDATES,
            suggestion_candidates=POSTGRES_SUGGESTION_CANDIDATES if postgres else SUGGESTION_CANDIDATES,
            answer_cache=answer_cache,
        )
        self._clock = clock
        self._inserted_hooks: list[InsertedHook] = []
        self._code_linked_hooks: list[InsertedHook] = []
        self._revised_hooks: list[InsertedHook] = []

    def now(self) -> datetime:
        return self._clock()

    def on_inserted(self, hook: InsertedHook) -> None:
        """Run ``hook`` with the newly added papers inside every ingest's transaction."""
        self._inserted_hooks.append(hook)

    def on_code_linked(self, hook: InsertedHook) -> None:
        """Run ``hook`` with stored papers that just gained a code link, inside the ingest's transaction."""
        self._code_linked_hooks.append(hook)

    def on_revised(self, hook: InsertedHook) -> None:
        """Run ``hook`` with stored papers whose arXiv version went up, inside the ingest's transaction."""
        self._revised_hooks.append(hook)

    async def start(self) -> None:
        self._generation = await self._generations.current("papers")
        await self.search.refresh()

    async def refresh_if_changed(self) -> bool:
        """Bring the title vocabulary (autocomplete, typo correction) up to date if papers changed
        since, also by another process (a CLI ingest committing batch after batch): only the words
        whose counts changed since the generation it holds are read and applied, never the whole
        vocabulary again. True if anything changed."""
        async with self._catching_up:
            current = await self._generations.current("papers")
            if current == self._generation:
                return False
            # Words stamped after ``current`` (a commit landing meanwhile) come with the next check.
            changed = await self.repository.title_terms_since(self._generation, current)
            await self.search.learn(changed)
            self._generation = current
            return True

    async def ingest(
        self, listed: Sequence[ListedPaper], *, progress: Progress | None = None
    ) -> UpsertCounts:
        """Store papers in one transaction: a failure part-way writes nothing."""
        with _frozen_for(listed):
            counts = await self._store(listed, self._clock(), progress)
        if counts.new or counts.updated:
            # Other processes notice the bump; this one catches up now (and skips the next check).
            await self.refresh_if_changed()
        return counts

    async def ingest_in_batches(
        self,
        listed: Sequence[ListedPaper],
        *,
        progress: Progress | None = None,
        batch_papers: int | None = None,
    ) -> UpsertCounts:
        """Store papers a batch of whole list days at a time (about ``batch_papers``, default
        COMMIT_PAPERS), each batch one transaction with its alerts, so other writers are not kept
        waiting for all of it and a daily list is never seen half-stored. A failure raises
        PartlyStored when earlier batches are stored (the same ingest again stores the rest), else
        the error itself.

        Into an empty PostgreSQL store, a load big enough to be a cold load (bot.storage.pg_bulk:
        a community moving its history in) is one transaction instead, whose full-text indexes are
        built once at the end: batches would each add their papers to the indexes one by one, at
        about three times the server's cost. There is nothing stored yet for a running bot's
        searches to find (they wait for the commit), and a failure stores none of it."""
        if await self.repository.is_cold_load(len(listed)):
            return await self.ingest(listed, progress=progress)
        counts = UpsertCounts()
        now = self._clock()
        try:
            with _frozen_for(listed):
                for number, batch in enumerate(whole_days(listed, batch_papers or COMMIT_PAPERS)):
                    if number:
                        await asyncio.sleep(BETWEEN_COMMITS_SECONDS)  # the lock is free: let waiters in
                    try:
                        counts += await self._store(batch, now, progress)
                    except Exception as exc:
                        if number == 0:
                            raise
                        stored = counts.new + counts.updated + counts.unchanged
                        raise PartlyStored(exc, stored=stored, total=len(listed)) from exc
        finally:
            if counts.new or counts.updated:
                await self.refresh_if_changed()
        return counts

    async def _store(
        self, listed: Sequence[ListedPaper], now: datetime, progress: Progress | None
    ) -> UpsertCounts:
        """One transaction: the papers, their listings, what the hooks add (alerts), the generation.

        Each BATCH_SIZE batch is prepared at its turn, then written. Preparing batch k+1 while
        the server ran batch k's statements cost this process ~17 us a paper (the prepared rows
        of a whole batch alive meanwhile, promoted by the collector) for no overlap worth it. On
        PostgreSQL a new paper's row (values, search document) is not prepared ahead at all but
        made inside the COPY that writes it, a chunk at a time while the server stores the chunk
        before (bot.storage.paper_rows.copy_rows; docs/performance.md, "Eighth session:
        PostgreSQL ingest (client)" and "Ninth session: PostgreSQL ingest (overlap)"). In a cold
        load each batch's COPY finishes on the server while the next batch is placed and its first
        chunks made, as bytes (bot.storage.copy_ahead)."""
        parts: list[UpsertCounts] = []
        async with self.database.transaction():
            async with self.repository.cold_load(len(listed)):
                for start in range(0, len(listed), BATCH_SIZE):
                    batch = await self.repository.prepare(listed[start : start + BATCH_SIZE], now)
                    parts.append(await self.repository.write(batch))
                    if progress:
                        progress(len(batch.listed))
            counts = UpsertCounts.total(parts)
            for hook in self._inserted_hooks:
                await hook(counts.inserted)
            if counts.code_linked:
                for hook in self._code_linked_hooks:
                    await hook(counts.code_linked)
            if counts.revised:
                for hook in self._revised_hooks:
                    await hook(counts.revised)
            if counts.new or counts.updated:
                await self._generations.bump("papers")
        return counts

    async def show(self, reference: str) -> Paper:
        return (await self.resolve(reference)).paper

    async def resolve(self, reference: str, *, among: Sequence[tuple[str, str]] | None = None) -> StoredPaper:
        """The paper every command that takes one means: by canonical id, arXiv id (any version),
        arXiv/HF link, or its title whole or in part (bot.domain.references), the titles ranked as
        the suggestions are; ``among``: (id, title) pairs to take titles from instead (a member's
        own library, for the commands that act on it)."""
        reference = reference.strip()
        if not reference:
            raise InvalidInput("Give a paper id, arXiv link or title.")
        stored = await self.repository.get(parse_arxiv_id(reference) or reference)
        if stored is None:
            if among is None:
                hits = await self.search.suggest(reference, limit=SUGGESTIONS)
                among = [(hit.paper_id, hit.title) for hit in hits]
            paper_id = named_title(reference, among)
            stored = await self.repository.get(paper_id) if paper_id else None
        if stored is None:
            raise PaperNotFound(reference)
        return stored

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


def _frozen_for(listed: Sequence[ListedPaper]) -> AbstractContextManager[None]:
    """An ingest of more than one batch runs with the objects alive before it frozen (its full
    collections would walk them all, the papers handed in included); a daily fetch is too small to gain."""
    return older_objects_frozen() if len(listed) > BATCH_SIZE else nullcontext()


def whole_days(listed: Sequence[ListedPaper], size: int) -> list[list[ListedPaper]]:
    """``listed`` in batches of about ``size`` papers that never split one list day (a day bigger
    than ``size`` is a batch of its own); days keep the order they first appear in, papers too."""
    days: dict[date | None, list[ListedPaper]] = {}
    for item in listed:
        days.setdefault(item.list_date, []).append(item)
    batches: list[list[ListedPaper]] = []
    for day in days.values():
        if batches and len(batches[-1]) + len(day) <= size:
            batches[-1] += day
        else:
            batches.append(list(day))
    return batches
