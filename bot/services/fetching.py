"""Fetching the day's list from the live source into the store, logged for /digest show and stats."""

from __future__ import annotations

import logging
from datetime import date

from bot.services.digest import DigestService
from bot.services.papers import PaperService
from bot.sources.feeds import HuggingFaceSource
from bot.sources.http import FetchError
from bot.storage.papers import UpsertCounts

log = logging.getLogger(__name__)


class FetchService:
    def __init__(self, papers: PaperService, digests: DigestService, source: HuggingFaceSource) -> None:
        self._papers = papers
        self._digests = digests
        self._source = source

    async def fetch_day(self, day: date) -> UpsertCounts:
        """Fetch and store the Hugging Face list for ``day``; a failure is recorded, then raised."""
        try:
            listed = await self._source.daily_list(day)
        except FetchError as exc:
            await self._digests.record_fetch(day, ok=False, papers=0, error=str(exc))
            raise
        counts = await self._papers.ingest(listed)
        await self._digests.record_fetch(day, ok=True, papers=len(listed), error=None)
        log.info("fetched %d papers for %s: %d new", len(listed), day, counts.new)
        return counts
