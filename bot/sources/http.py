"""One polite HTTP client for every source: timeouts, a descriptive User-Agent, a size cap, and
retries with backoff on 429/5xx that honour ``Retry-After``."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

import aiohttp

from bot import __version__
from bot.domain.rate_budget import RateBudget
from bot.domain.urls import shown_url

log = logging.getLogger(__name__)

USER_AGENT = f"paperbot/{__version__} (Discord research-papers bot; +https://github.com/paperbot/paperbot)"
MAX_BYTES = 20 * 1024 * 1024  # a daily list is kilobytes; anything near this is not what we asked for
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
Sleep = Callable[[float], Awaitable[None]]


class FetchError(Exception):
    """A source could not be fetched; the message says why, in words fit for an admin."""


class SourceUnavailable(FetchError):
    """Still throttled (429), failing (5xx) or unreachable after every retry: asking the same source
    for something else now would only add load, so a run of several requests stops here."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 60.0

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter, for the ``attempt``-th retry (1-based)."""
        delay: float = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return delay * (0.5 + random.random() / 2)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
        return max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())
    except (TypeError, ValueError):
        return None


class HttpClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        max_bytes: int = MAX_BYTES,
        sleep: Sleep = asyncio.sleep,
        budget: RateBudget | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``budget``: every request (retries too) waits its turn within it; a 429 pauses it."""
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retry = retry or RetryPolicy()
        self._max_bytes = max_bytes
        self._sleep = sleep
        self._budget = budget
        self._monotonic = monotonic
        self._turn = asyncio.Lock()

    async def _take_turn(self) -> None:
        if self._budget is None:
            return
        async with self._turn:  # one caller at a time decides, so concurrent fetches cannot overshoot
            while (wait := self._budget.wait(self._monotonic())) > 0:
                log.info("HTTP budget spent; waiting %.1f s", wait)
                await self._sleep(wait)
            self._budget.spend(self._monotonic())

    async def get(self, url: str, *, params: Mapping[str, str] | None = None) -> bytes:
        """The body of a 200 answer; retries transient failures, then raises FetchError. Messages
        and log lines name the address without its user, password or query (``shown_url``): they
        reach the fetch log, which /digest show, /papers stats and /about show in Discord."""
        shown = shown_url(url)
        last_problem = "no attempt made"
        for attempt in range(1, self._retry.attempts + 1):
            await self._take_turn()
            try:
                async with self._session.get(
                    url, params=params, timeout=self._timeout, headers={"User-Agent": USER_AGENT}
                ) as response:
                    if response.status == 200:
                        return await self._read_capped(response, shown)
                    last_problem = f"HTTP {response.status}"
                    if response.status not in RETRY_STATUSES:
                        raise FetchError(f"{shown} answered HTTP {response.status}")
                    wait = retry_after(response.headers)
            except (aiohttp.ClientError, TimeoutError) as exc:
                last_problem = _problem(exc)
                wait = None
            if attempt == self._retry.attempts:
                break
            delay = wait if wait is not None else self._retry.backoff(attempt)
            delay = min(delay, self._retry.max_delay)
            if self._budget is not None and last_problem == "HTTP 429":
                self._budget.pause(self._monotonic(), delay)
            log.warning("fetch %s failed (%s); retry %d in %.1f s", shown, last_problem, attempt, delay)
            await self._sleep(delay)
        raise SourceUnavailable(f"{shown} failed after {self._retry.attempts} attempts ({last_problem})")

    async def _read_capped(self, response: aiohttp.ClientResponse, shown: str) -> bytes:
        declared = response.content_length
        if declared is not None and declared > self._max_bytes:
            raise FetchError(f"{shown} is {declared} bytes, over the {self._max_bytes}-byte cap")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > self._max_bytes:
                raise FetchError(f"{shown} sent more than the {self._max_bytes}-byte cap")
            chunks.append(chunk)
        return b"".join(chunks)


def _problem(exc: aiohttp.ClientError | TimeoutError) -> str:
    """What went wrong, in words fit for the fetch log. aiohttp writes the whole address into an
    invalid URL's text and a response error's (``url=...``): those are named by type alone."""
    if isinstance(exc, aiohttp.InvalidURL):
        return f"{type(exc).__name__}: not a URL aiohttp can fetch"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"{type(exc).__name__}: HTTP {exc.status} {exc.message}".rstrip()
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
