"""The live sources: the Hugging Face Daily Papers API and arXiv's RSS and Atom feeds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import date

from bot.domain.models import ListedPaper
from bot.domain.urls import shown_url
from bot.errors import ParseError
from bot.parsing.arxiv import parse_arxiv_atom, parse_arxiv_rss
from bot.parsing.hf_api import parse_hf_api
from bot.parsing.skipped import SkippedEntry
from bot.sources.http import FetchError, HttpClient, Sleep

HF_API = "https://huggingface.co/api/daily_papers"
ARXIV_RSS = "https://rss.arxiv.org/rss/"
ARXIV_API = "http://export.arxiv.org/api/query"
ARXIV_MIN_INTERVAL = 3.0  # arXiv's API terms: at most one request every three seconds


class HuggingFaceSource:
    name = "hf"

    def __init__(self, http: HttpClient, *, base_url: str = HF_API, page_size: int = 100) -> None:
        self._http = http
        self._url = base_url
        self._page_size = page_size

    async def daily_list(self, day: date, *, skipped: list[SkippedEntry] | None = None) -> list[ListedPaper]:
        """The Daily Papers list for ``day`` (empty on weekends and holidays); malformed items go to
        ``skipped`` (None: they fail the fetch)."""
        params = {"date": day.isoformat(), "limit": str(self._page_size)}
        data = await self._http.get(self._url, params=params)
        try:
            source = f"{shown_url(self._url)}?date={day.isoformat()}"  # skipped items name it
            return parse_hf_api(data, source=source, list_date=day, skipped=skipped)
        except ParseError as exc:
            raise FetchError(
                f"Hugging Face answered something that is not a papers list: {exc.reason}"
            ) from None


class ArxivSource:
    name = "arxiv"

    def __init__(
        self,
        http: HttpClient,
        *,
        rss_url: str = ARXIV_RSS,
        api_url: str = ARXIV_API,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._rss_url = rss_url
        self._api_url = api_url
        self._sleep = sleep
        self._monotonic = monotonic
        self._last_request: float | None = None
        self._lock = asyncio.Lock()

    async def _polite_get(self, url: str, params: dict[str, str] | None = None) -> bytes:
        async with self._lock:
            if self._last_request is not None:
                wait = ARXIV_MIN_INTERVAL - (self._monotonic() - self._last_request)
                if wait > 0:
                    await self._sleep(wait)
            try:
                return await self._http.get(url, params=params)
            finally:
                self._last_request = self._monotonic()

    async def announcements(
        self, categories: Sequence[str], *, skipped: list[SkippedEntry] | None = None
    ) -> list[ListedPaper]:
        """Today's RSS announcements (new, cross-list, replacements) for the categories; malformed
        items go to ``skipped`` (None: they fail the fetch)."""
        url = self._rss_url + "+".join(categories)
        data = await self._polite_get(url)
        try:
            return parse_arxiv_rss(data, source=shown_url(url), skipped=skipped)
        except ParseError as exc:
            raise FetchError(f"arXiv RSS answered something that is not a feed: {exc.reason}") from None

    async def query(
        self, search_query: str, *, max_results: int = 100, skipped: list[SkippedEntry] | None = None
    ) -> list[ListedPaper]:
        """Papers from the Atom query API (newest submissions first); malformed entries go to
        ``skipped`` (None: they fail the query)."""
        params = {
            "search_query": search_query,
            "sortBy": "submittedDate",
            "sortOrder": "descending",
            "max_results": str(max_results),
        }
        data = await self._polite_get(self._api_url, params)
        try:
            return parse_arxiv_atom(data, source=shown_url(self._api_url), skipped=skipped)
        except ParseError as exc:
            raise FetchError(f"arXiv API answered something that is not a feed: {exc.reason}") from None
