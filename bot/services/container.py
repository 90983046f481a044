"""The services a running bot holds, and the one startup function that builds them.

``open_services`` is the composition root for every entry point (the bot, sync, the CLI, the
sandbox, doctor): it opens the database, builds the repositories once, and injects them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import aiohttp

from bot.domain.rate_budget import RateBudget
from bot.services.alerts import AlertService
from bot.services.delivery import Lease, new_instance_id
from bot.services.digest import DigestService
from bot.services.digest_notices import DigestNotices
from bot.services.fetching import FetchService, next_fetches, source_policies
from bot.services.follows import FollowService
from bot.services.identify import IdentifyTurns
from bot.services.library import LibraryService
from bot.services.library_updates import LibraryUpdates
from bot.services.momentum import MomentumService
from bot.services.papers import PaperService, utcnow
from bot.services.privacy import PrivacyService
from bot.services.shard_claims import ShardClaims
from bot.services.similar import SimilarPapers
from bot.services.store_clock import StoreClock
from bot.services.votes import VoteService
from bot.services.weekly_picks import WeeklyPicks
from bot.settings import Settings
from bot.sources.feeds import ArxivSource, HuggingFaceSource
from bot.sources.http import HttpClient, RetryPolicy
from bot.storage.connection import Store
from bot.storage.database import Database
from bot.storage.fetches import FetchRecord
from bot.storage.index_merge import Merged, merge_indexes, segment_counts
from bot.storage.index_warmup import Warmed, warm_indexes
from bot.storage.pg_warmup import PgWarmed, warm_store
from bot.storage.postgres import PostgresDatabase
from bot.storage.repositories import Repositories
from bot.storage.store import open_store


@dataclass(frozen=True, slots=True)
class Overview:
    """What an admin sees in /papers stats."""

    papers: int
    by_source: dict[str, int]
    latest_list: date | None
    last_fetch: FetchRecord | None
    next_fetch: dict[str, datetime]  # per enabled source, and the momentum refresh
    hf_calls: tuple[int, int, float] | None  # this process: (used, allowed, per seconds); None: offline
    digest_servers: int
    digest_posts: int
    follows: int
    alerts_sent: int


@dataclass(slots=True)
class Services:
    database: Store
    repositories: Repositories
    papers: PaperService
    digests: DigestService
    follows: FollowService
    alerts: AlertService
    momentum: MomentumService
    settings: Settings
    library: LibraryService
    similar: SimilarPapers
    privacy: PrivacyService
    votes: VoteService
    shards: ShardClaims  # which process runs which shards of this store
    weekly_picks: WeeklyPicks
    digest_notices: DigestNotices  # tells admins of digest periods not posted
    fetcher: FetchService | None = None  # None: no live source (offline tools, tests)
    clock: Callable[[], datetime] = utcnow  # the services' clock (virtual in cog tests)
    identify_turns: IdentifyTurns | None = None  # the deployment's IDENTIFY pacing (bot processes)

    @classmethod
    async def open(
        cls,
        database: Store,
        settings: Settings,
        *,
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], datetime] | None = None,
        warm: bool = True,
    ) -> Services:
        """Build every service over ``database``; ``warm``: load the search vocabulary now.
        ``clock``: the services' clock; by default the store's (``StoreClock``: the database
        server's time, which every process of the store shares)."""
        repos = Repositories.of(database)
        if clock is None:
            clock = StoreClock(repos.server_time, utcnow)
            await clock.measure()
        # One instance id per process: what its digest claims and alert batches are leased to.
        lease = Lease(new_instance_id(), seconds=settings.delivery.lease_seconds)
        papers = PaperService(
            database,
            repos.papers,
            clock=clock,
            generations=repos.generations,
            answer_cache=settings.search.answer_cache,
        )
        if warm:
            await papers.start()
        fetcher = None
        if session is not None:
            sources = settings.sources
            retry = RetryPolicy(attempts=sources.retry_attempts)
            http = HttpClient(session, timeout=sources.timeout_seconds, retry=retry)
            # Every Hugging Face request, retries included, keeps within HF's published rate limit.
            budget = RateBudget(sources.hf_calls_per_window, sources.hf_window_seconds)
            hf_http = HttpClient(session, timeout=sources.timeout_seconds, retry=retry, budget=budget)
            fetcher = FetchService(
                papers,
                database,
                repos.fetches,
                HuggingFaceSource(hf_http, base_url=sources.hf_api_url),
                arxiv=ArxivSource(http, rss_url=sources.arxiv_rss_url, api_url=sources.arxiv_api_url),
                categories=sources.arxiv_categories,
                policies=source_policies(sources),
                leases=repos.leases,
                owner=lease.owner,
                fresh_wait=sources.fresh_wait_seconds,
                lease_ttl=timedelta(seconds=sources.lease_seconds),
                refresh_days=sources.refresh_days,
                refresh_spacing=sources.refresh_spacing_seconds,
                hf_budget=budget,
            )
        digests = DigestService(
            database,
            repos.digests,
            repos.papers,
            repos.fetches,
            repos.coverage,
            repos.momentum,
            repos.digest_notices,
            clock=clock,
            grace=timedelta(minutes=settings.digest.grace_minutes),
            empty_note=settings.digest.empty_note,
            lease=lease,
            freshener=fetcher,
            owns=settings.shard_plan.owns,
        )
        follows = FollowService(
            database,
            repos.follows,
            repos.papers,
            papers.search,
            clock=clock,
            max_follows=settings.follows.max_per_member,
            generations=repos.generations,
            people=repos.people,
        )
        papers.on_inserted(follows.queue_matches)  # matches are queued in the ingest's transaction
        papers.on_code_linked(follows.queue_code_linked)  # "code:yes" follows hear once code is out
        alerts = AlertService(
            database,
            repos.follows,
            repos.papers,
            clock=clock,
            interval=settings.follows.dm_interval_seconds,
            lease=lease,
            start_at=settings.shard_plan.share_start(),
        )
        momentum = MomentumService(repos.momentum, repos.papers, clock=clock, votes=repos.votes)
        votes = VoteService(database, repos.votes, repos.papers, clock=clock)
        similar = SimilarPapers(repos.papers, repos.terms, title_docs=lambda: papers.search.vocabulary.docs)
        library = LibraryService(database, repos.library, papers, similar, clock=clock, members=repos.follows)
        weekly_picks = WeeklyPicks(
            database, repos.library, library, reach=alerts.still_shares_a_server, clock=clock, lease=lease
        )
        updates = LibraryUpdates(repos.library, repos.follows, clock=clock)
        papers.on_code_linked(updates.queue_code_released)  # savers hear once, with their alerts
        papers.on_revised(updates.queue_new_versions)
        privacy = PrivacyService(database, repos.privacy, repos.generations, follows)
        return cls(
            database,
            repos,
            papers,
            digests,
            follows,
            alerts,
            momentum,
            settings,
            library,
            similar,
            privacy,
            votes,
            ShardClaims(database, repos.shard_claims, settings.shard_plan, lease.owner, clock=clock),
            weekly_picks,
            DigestNotices(database, repos.notice_batches, repos.digests, clock=clock, lease=lease),
            fetcher,
            clock,
            IdentifyTurns(database, repos.leases, owner=lease.owner, clock=clock),
        )

    async def measure_clock(self) -> None:
        """Measure the store clock's offset again (the machine's clock may have been stepped)."""
        if isinstance(self.clock, StoreClock):
            await self.clock.measure()

    async def overview(self) -> Overview:
        stats = await self.papers.stats()
        repos = self.repositories
        return Overview(
            papers=stats.papers,
            by_source=stats.by_source,
            latest_list=stats.latest_list,
            last_fetch=await repos.fetches.last("hf"),
            next_fetch=await self.next_fetches(),
            hf_calls=self.fetcher.hf_calls() if self.fetcher else None,
            digest_servers=await repos.digests.count_servers(),
            digest_posts=await repos.digests.count_posted(),
            follows=await repos.follows.count_follows(),
            alerts_sent=await repos.follows.count_sent(),
        )

    async def next_fetches(self) -> dict[str, datetime]:
        """When the source schedule fetches each enabled source next (from the fetch log, so any
        process, doctor included, sees what the running bot will do)."""
        policies = source_policies(self.settings.sources)
        return await next_fetches(self.repositories.fetches, policies, self.clock())

    async def last_fetches(self, sources: Iterable[str]) -> dict[str, FetchRecord | None]:
        """The latest fetch of each source (None: never fetched), for /about and the heartbeat."""
        return {source: await self.repositories.fetches.last(source) for source in sources}

    async def refresh_if_changed(self) -> bool:
        """Catch up with what other processes wrote: title vocabulary and follow index. True when
        new papers arrived (their alerts may be waiting)."""
        await self.follows.refresh_if_changed()
        return await self.papers.refresh_if_changed()

    async def warm_indexes(self) -> Warmed | PgWarmed | None:
        """Read what searches need into memory once: SQLite's full-text indexes into the OS page
        cache (bot.storage.index_warmup), PostgreSQL's search indexes and rows into the server's
        shared buffers (bot.storage.pg_warmup); None where there is nothing to read (:memory:)."""
        database = self.database
        if isinstance(database, PostgresDatabase):
            return await warm_store(database.url)
        if database.path == ":memory:":
            return None
        return await warm_indexes(database.path)

    async def merge_indexes(self, stopped: Callable[[], bool] = lambda: False) -> Merged | None:
        """Merge the full-text indexes that gathered more than ``search.merge_above_segments``
        segments down to one, in short steps beside serving (bot.storage.index_merge); None where
        there is nothing to merge: PostgreSQL's indexes, a store opened read-only."""
        database = self.database
        if not isinstance(database, Database) or database.readonly:
            return None
        return await merge_indexes(database, above=self.settings.search.merge_above_segments, stopped=stopped)

    async def index_segments(self) -> dict[str, int] | None:
        """Segments in each full-text index (SQLite; None on PostgreSQL), for `paperbot doctor`."""
        database = self.database
        return await segment_counts(database) if isinstance(database, Database) else None

    async def pending_alerts(self) -> bool:
        return bool(await self.repositories.follows.users_with_pending())


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    session: aiohttp.ClientSession | None = None,
    clock: Callable[[], datetime] | None = None,
    warm: bool = True,
    readonly: bool = False,
    create: bool = True,
    busy_timeout_ms: int = 5000,
) -> AsyncIterator[Services]:
    """The database and every service over it, for as long as the block runs; closed after.

    ``readonly``: diagnostics and backups look without creating or migrating the store
    (FileNotFoundError when it does not exist). ``create``: false for commands that only read
    (StoreMissing instead of a new store; an existing older store is still migrated).
    ``busy_timeout_ms``: how long a write waits for another process's (a batch job like a CLI
    ingest can wait longer than the bot)."""
    database = await open_store(
        settings.store,
        readers=settings.search.readers,
        busy_timeout_ms=busy_timeout_ms,
        create=create,
        readonly=readonly,
    )
    try:
        yield await Services.open(database, settings, session=session, clock=clock, warm=warm)
    finally:
        await database.close()
