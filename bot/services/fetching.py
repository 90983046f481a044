"""Fetching from the live sources into the store, logged for /digest show, /papers stats and doctor.

Which sources are fetched is configuration (``sources.enabled``; the default is the Hugging Face
daily list). The digest shows the Hugging Face list; arXiv announcements, when enabled, add papers
to search and to follow alerts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, timedelta

from bot.domain.models import ListedPaper
from bot.domain.text import without_lone_surrogates
from bot.services.papers import PaperService
from bot.sources.feeds import ArxivSource, HuggingFaceSource
from bot.sources.http import FetchError
from bot.storage.database import Database
from bot.storage.fetches import FetchLogRepository, FetchRecord
from bot.storage.papers import UpsertCounts

log = logging.getLogger(__name__)


class FetchService:
    def __init__(
        self,
        papers: PaperService,
        database: Database,
        log_repository: FetchLogRepository,
        hf: HuggingFaceSource,
        *,
        arxiv: ArxivSource | None = None,
        categories: Sequence[str] = (),
        enabled: Sequence[str] = ("hf",),
    ) -> None:
        self._papers = papers
        self._database = database
        self._log = log_repository
        self._hf = hf
        self._arxiv = arxiv
        self._categories = list(categories)
        self.enabled = tuple(enabled)

    async def _record(
        self, list_date: date | None, *, ok: bool, papers: int, error: str | None, source: str = "hf"
    ) -> None:
        async with self._database.transaction():
            await self._log.record(FetchRecord(source, list_date, self._papers.now(), ok, papers, error))

    async def fetch_day(self, day: date) -> UpsertCounts:
        """Fetch and store the Hugging Face list for ``day``; a failure is recorded, then raised."""
        try:
            listed = await self._hf.daily_list(day)
        except FetchError as exc:
            await self._record(day, ok=False, papers=0, error=str(exc))
            raise
        counts = await self._store(listed, day, "hf")
        await self._record(day, ok=True, papers=len(listed), error=None)
        log.info("fetched %d papers for %s: %d new", len(listed), day, counts.new)
        return counts

    async def refresh_recent(self, days: int, today: date) -> UpsertCounts:
        """Re-fetch the last ``days`` Hugging Face lists (oldest first): late additions and fresh
        counts (a momentum snapshot each). The HTTP budget paces the calls; one day failing does not
        stop the others."""
        total = UpsertCounts()
        for back in range(days - 1, -1, -1):
            day = today - timedelta(days=back)
            try:
                total += await self.fetch_day(day)
            except FetchError as exc:
                log.warning("refreshing the list of %s failed: %s", day, exc)
        return total

    async def fetch_arxiv(self, categories: Sequence[str] = ()) -> UpsertCounts:
        """Fetch today's arXiv announcements for ``categories`` (default: the configured ones)."""
        if self._arxiv is None:
            raise FetchError("arXiv is not configured")
        try:
            listed = await self._arxiv.announcements(list(categories) or self._categories)
        except FetchError as exc:
            await self._record(None, ok=False, papers=0, error=str(exc), source="arxiv")
            raise
        counts = await self._store(listed, None, "arxiv")
        await self._record(None, ok=True, papers=len(listed), error=None, source="arxiv")
        return counts

    async def _store(self, listed: Sequence[ListedPaper], day: date | None, source: str) -> UpsertCounts:
        """Ingest a fetched list (one transaction); a failure to store it is recorded as a failed fetch,
        so /digest show says so, and raised as a FetchError like any other failed fetch."""
        try:
            return await self._papers.ingest(listed)
        except Exception as exc:
            log.exception("storing the %s list for %s failed", source, day)
            reason = without_lone_surrogates(f"{type(exc).__name__}: {exc}")
            error = f"the fetched list could not be stored ({reason})"
            await self._record(day, ok=False, papers=0, error=error, source=source)
            raise FetchError(error) from exc

    async def fetch_enabled(self, day: date) -> UpsertCounts:
        """Every enabled source; one source failing does not stop the others (each failure is logged)."""
        total = UpsertCounts()
        jobs = {"hf": lambda: self.fetch_day(day), "arxiv": self.fetch_arxiv}
        for name in self.enabled:
            try:
                total += await jobs[name]()
            except FetchError as exc:
                log.warning("fetch from %s failed: %s", name, exc)
        return total
