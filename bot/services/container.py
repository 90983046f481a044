"""The services a running bot holds, built once in the entry point and passed in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import aiohttp

from bot.services.digest import DigestService
from bot.services.fetching import FetchService
from bot.services.follows import FollowService
from bot.services.papers import PaperService, utcnow
from bot.settings import Settings
from bot.sources.feeds import ArxivSource, HuggingFaceSource
from bot.sources.http import HttpClient, RetryPolicy
from bot.storage.database import Database
from bot.storage.digests import FetchRecord


@dataclass(frozen=True, slots=True)
class Overview:
    """What an admin sees in /papers stats."""

    papers: int
    by_source: dict[str, int]
    latest_list: date | None
    last_fetch: FetchRecord | None
    digest_servers: int
    digest_posts: int
    follows: int
    alerts_sent: int


@dataclass(slots=True)
class Services:
    database: Database
    papers: PaperService
    digests: DigestService
    follows: FollowService
    fetcher: FetchService | None = None  # None: no live source (offline tools, tests)
    clock: Callable[[], datetime] = utcnow  # the services' clock (virtual in cog tests)

    @classmethod
    async def open(
        cls,
        database: Database,
        settings: Settings,
        *,
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> Services:
        papers = PaperService(database, clock=clock)
        await papers.start()
        digests = DigestService(
            database,
            papers,
            clock=clock,
            grace=timedelta(minutes=settings.digest.grace_minutes),
            empty_note=settings.digest.empty_note,
        )
        follows = FollowService(database, papers, clock=clock, max_follows=settings.follows.max_per_member)
        fetcher = None
        if session is not None:
            retry = RetryPolicy(attempts=settings.sources.retry_attempts)
            http = HttpClient(session, timeout=settings.sources.timeout_seconds, retry=retry)
            sources = settings.sources
            fetcher = FetchService(
                papers,
                digests,
                HuggingFaceSource(http, base_url=sources.hf_api_url),
                arxiv=ArxivSource(http, rss_url=sources.arxiv_rss_url, api_url=sources.arxiv_api_url),
                categories=sources.arxiv_categories,
                enabled=sources.enabled,
            )
        return cls(
            database=database, papers=papers, digests=digests, follows=follows, fetcher=fetcher, clock=clock
        )

    async def overview(self) -> Overview:
        stats = await self.papers.stats()
        return Overview(
            papers=stats.papers,
            by_source=stats.by_source,
            latest_list=stats.latest_list,
            last_fetch=await self.digests.repository.last_fetch("hf"),
            digest_servers=len(await self.digests.configs()),
            digest_posts=await self.digests.repository.count_posted(),
            follows=await self.follows.repository.count_follows(),
            alerts_sent=await self.follows.repository.count_sent(),
        )
