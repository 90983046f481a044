"""Fetching from the live sources into the store, logged for /digest show, /papers stats and doctor.

Which sources are fetched is configuration (``sources.enabled``; the default is the Hugging Face
daily list). The digest shows the Hugging Face list; arXiv announcements, when enabled, add papers
to search and to follow alerts. When each source is due comes from its fetch log
(:mod:`bot.domain.sources`), so the schedule survives restarts and any process can show it.

The momentum refresh (the last ``refresh_days`` Hugging Face lists, for fresh upvotes and late
additions) is one more policy of the same schedule, ``hf-refresh``: it runs under the schedule's
lease (one process), through the same rate budget as every other Hugging Face call, a pause
between its requests, and it stops at the first request the source still refuses after retries
(429, 5xx, unreachable); the schedule then retries it with the usual growing pause.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta

from bot.domain.models import ListedPaper
from bot.domain.rate_budget import RateBudget
from bot.domain.sources import SourcePolicy, next_fetch, recent_days
from bot.domain.text import without_lone_surrogates
from bot.parsing.skipped import SkippedEntry
from bot.services.delivery import new_instance_id
from bot.services.papers import PaperService
from bot.settings import SourceSettings
from bot.sources.feeds import ArxivSource, HuggingFaceSource
from bot.sources.http import FetchError, Sleep, SourceUnavailable
from bot.storage.connection import Store
from bot.storage.fetches import FetchLogRepository, FetchRecord
from bot.storage.leases import LeaseRepository
from bot.storage.papers import UpsertCounts

log = logging.getLogger(__name__)

FRESH_WAIT = 60.0  # seconds a due post waits for its list to be re-fetched before posting anyway
SCHEDULE_LEASE = "sources"
# The process running the schedule renews its lease a few times per period (sources.lease_seconds);
# another takes over this long after the last renewal (a crashed or frozen owner), never sooner.
LEASE_TTL = timedelta(seconds=45)
REFRESH = "hf-refresh"  # the momentum refresh's name in the schedule and the fetch log
REFRESH_SPACING = 1.0  # seconds between two requests of a refresh: background work leaves room
# Asked during a long run: True while this process still holds the schedule's lease (renewing it).
KeepLease = Callable[[], Awaitable[bool]]


def source_policies(settings: SourceSettings) -> dict[str, SourcePolicy]:
    """The enabled sources' schedules, from configuration; the momentum refresh with Hugging Face."""
    every = timedelta(minutes=settings.refresh_minutes)
    known = {"hf": SourcePolicy("hf", every), "arxiv": SourcePolicy("arxiv", every, announced=True)}
    policies: dict[str, SourcePolicy] = {name: known[name] for name in settings.enabled}
    if "hf" in policies and settings.refresh_days:
        policies[REFRESH] = SourcePolicy(REFRESH, timedelta(hours=settings.refresh_hours))
    return policies


async def next_fetches(
    fetch_log: FetchLogRepository, policies: Mapping[str, SourcePolicy], now: datetime
) -> dict[str, datetime]:
    """When each source is fetched next (what /papers stats and doctor show)."""
    # A source already due is fetched at the next check: "now", not an instant in the past.
    return {
        name: max(now, next_fetch(policy, await fetch_log.state(name), now))
        for name, policy in policies.items()
    }


def skipped_note(skipped: Sequence[SkippedEntry]) -> str | None:
    """What a successful fetch's log row says about the entries it left out (None: none), shown
    beside its paper count by /digest show, doctor and health."""
    left_out = [entry for entry in skipped if not entry.trimmed]
    cut = [entry for entry in skipped if entry.trimmed]
    notes = []
    if left_out:
        count = f"{len(left_out)} malformed {'entry' if len(left_out) == 1 else 'entries'} skipped"
        notes.append(_first_of(count, left_out))
    if cut:
        count = f"{len(cut)} {'paper' if len(cut) == 1 else 'papers'} trimmed to the size limits"
        notes.append(_first_of(count, cut))
    return "; ".join(notes) or None


def _first_of(count: str, entries: Sequence[SkippedEntry]) -> str:
    more = f" (and {len(entries) - 1} more)" if len(entries) > 1 else ""
    return f"{count}: {entries[0].entry}: {entries[0].reason}{more}"


class FetchService:
    def __init__(
        self,
        papers: PaperService,
        database: Store,
        log_repository: FetchLogRepository,
        hf: HuggingFaceSource,
        *,
        arxiv: ArxivSource | None = None,
        categories: Sequence[str] = (),
        policies: Mapping[str, SourcePolicy] | None = None,
        leases: LeaseRepository | None = None,  # None: the only process (tools, tests)
        fresh_wait: float = FRESH_WAIT,
        owner: str | None = None,
        lease_ttl: timedelta = LEASE_TTL,
        refresh_days: int = 7,
        refresh_spacing: float = REFRESH_SPACING,
        sleep: Sleep = asyncio.sleep,
        hf_budget: RateBudget | None = None,  # the one the Hugging Face client keeps to, for stats
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._papers = papers
        self._database = database
        self.fetch_log = log_repository
        self._hf = hf
        self._arxiv = arxiv
        self._categories = list(categories)
        default = {"hf": SourcePolicy("hf", timedelta(hours=2))}
        self.policies = dict(policies) if policies is not None else default
        self._leases = leases
        self._fresh_wait = fresh_wait
        self.owner = owner or new_instance_id()  # the process's id, as for its digest claims
        self._lease_ttl = lease_ttl
        self._refresh_days = refresh_days
        self._refresh_spacing = refresh_spacing
        self._sleep = sleep
        self._hf_budget = hf_budget
        self._monotonic = monotonic
        # One fetch of a source at a time: a post waiting for its list shares the running fetch.
        self._locks = {"hf": asyncio.Lock(), "arxiv": asyncio.Lock()}
        self._background: set[asyncio.Future[None]] = set()

    def now(self) -> datetime:
        return self._papers.now()

    @property
    def enabled(self) -> tuple[str, ...]:
        return tuple(self.policies)

    def hf_calls(self) -> tuple[int, int, float] | None:
        """This process's Hugging Face calls in the budget's window: (used, allowed, window seconds)."""
        budget = self._hf_budget
        if budget is None:
            return None
        return budget.used(self._monotonic()), budget.calls, budget.per

    async def _record(
        self, list_date: date | None, *, ok: bool, papers: int, error: str | None, source: str = "hf"
    ) -> None:
        async with self._database.transaction():
            await self.fetch_log.record(FetchRecord(source, list_date, self.now(), ok, papers, error))

    # ---- one fetch -----------------------------------------------------------------------------

    async def fetch_day(self, day: date) -> UpsertCounts:
        """Fetch and store the Hugging Face list for ``day``; a failure is recorded, then raised.
        Malformed items are left out and named (log, and the counts' ``skipped``); the rest is stored."""
        skipped: list[SkippedEntry] = []
        try:
            listed = await self._hf.daily_list(day, skipped=skipped)
        except FetchError as exc:
            await self._record(day, ok=False, papers=0, error=str(exc))
            raise
        counts = await self._store(listed, day, "hf")
        await self._record(day, ok=True, papers=len(listed), error=skipped_note(skipped))
        log.info("fetched %d papers for %s: %d new", len(listed), day, counts.new)
        return self._with_skipped(counts, skipped)

    @staticmethod
    def _with_skipped(counts: UpsertCounts, skipped: list[SkippedEntry]) -> UpsertCounts:
        for entry in skipped:
            log.warning("%s", entry)
        return replace(counts, skipped=counts.skipped + tuple(skipped))

    async def refresh_recent(self, keep_lease: KeepLease | None = None) -> UpsertCounts:
        """Re-fetch the last ``refresh_days`` Hugging Face lists (oldest first): late additions and
        fresh counts (a momentum snapshot each), then log the run as the ``hf-refresh`` source.

        A day the source answers wrongly is skipped; a request it still refuses after retries ends
        the run (failed: the schedule backs off). ``keep_lease``, asked before each request, ends
        the run unlogged once another process holds the schedule (it refreshes instead)."""
        days = recent_days(self.now(), self._refresh_days)
        total = UpsertCounts()
        refreshed = 0
        failed: list[str] = []
        async with self._locks["hf"]:
            for index, day in enumerate(days):
                if index:
                    await self._sleep(self._refresh_spacing)
                if keep_lease is not None and not await keep_lease():
                    log.warning("the source schedule passed to another process mid-refresh; stopping")
                    return total
                try:
                    total += await self.fetch_day(day)
                    refreshed += 1
                except SourceUnavailable as exc:
                    failed.append(f"{day}: {exc}")
                    break
                except FetchError as exc:
                    failed.append(f"{day}: {exc}")
        error = None
        if failed:
            error = f"{len(days) - refreshed} of {len(days)} lists not refreshed; {failed[-1]}"
            log.warning("refreshing the recent lists: %s", error)
        listed = total.new + total.updated + total.unchanged
        await self._record(None, ok=not failed, papers=listed, error=error, source=REFRESH)
        return total

    async def fetch_days(self, days: Sequence[date]) -> UpsertCounts:
        """The Hugging Face lists of ``days``; one failing day does not stop the others."""
        total = UpsertCounts()
        failed: list[str] = []
        async with self._locks["hf"]:
            for day in days:
                try:
                    total += await self.fetch_day(day)
                except FetchError as exc:
                    failed.append(str(exc))
        if failed and len(failed) == len(days):
            raise FetchError(failed[-1])
        return total

    async def fetch_arxiv(self, categories: Sequence[str] = ()) -> UpsertCounts:
        """Fetch today's arXiv announcements for ``categories`` (default: the configured ones)."""
        if self._arxiv is None:
            raise FetchError("arXiv is not configured")
        skipped: list[SkippedEntry] = []
        async with self._locks["arxiv"]:
            try:
                listed = await self._arxiv.announcements(
                    list(categories) or self._categories, skipped=skipped
                )
            except FetchError as exc:
                await self._record(None, ok=False, papers=0, error=str(exc), source="arxiv")
                raise
            counts = await self._store(listed, None, "arxiv")
            note = skipped_note(skipped)
            await self._record(None, ok=True, papers=len(listed), error=note, source="arxiv")
        return self._with_skipped(counts, skipped)

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

    async def fetch_source(self, name: str, keep_lease: KeepLease | None = None) -> UpsertCounts:
        """One scheduled run of a source: Hugging Face's last two days (it keeps adding to both),
        the momentum refresh, arXiv's latest announcements."""
        if name == "hf":
            return await self.fetch_days(recent_days(self.now()))
        if name == REFRESH:
            return await self.refresh_recent(keep_lease)
        return await self.fetch_arxiv()

    # ---- the schedule --------------------------------------------------------------------------

    async def schedule(self) -> dict[str, datetime]:
        return await next_fetches(self.fetch_log, self.policies, self.now())

    async def run_scheduled(self) -> UpsertCounts | None:
        """The schedule's job: in the one process holding the schedule's lease (taken over once
        expired), fetch what is due. None when another process runs the schedule."""
        if not await self.hold_schedule():
            return None
        # A refresh waiting on the rate budget may outlast the lease: it renews it before each
        # request and stops once another process holds it.
        return await self.run_due(self.hold_schedule if self._leases is not None else None)

    async def hold_schedule(self) -> bool:
        """Take or renew the schedule's lease; False while another live process holds it. Renewed
        on its own timer (not only when the schedule runs), so a long fetch never lets it lapse."""
        if self._leases is None:
            return True
        async with self._database.transaction():
            before = await self._leases.holder(SCHEDULE_LEASE)
            held = await self._leases.acquire(SCHEDULE_LEASE, self.owner, self.now(), self._lease_ttl)
        if held and before is not None and before != self.owner:
            # A clean stop deletes the lease: one still held by another process means it died or froze.
            log.info("source schedule taken over from %s (it stopped renewing its lease)", before)
        return held

    async def schedule_holder(self) -> str | None:
        """Which process runs the schedule now (None: nobody yet)."""
        return None if self._leases is None else await self._leases.holder(SCHEDULE_LEASE)

    @property
    def lease_ttl(self) -> timedelta:
        return self._lease_ttl

    async def release_schedule(self) -> None:
        """On a clean stop: let a standby process take over at once instead of after the lease."""
        if self._leases is None:
            return
        async with self._database.transaction():
            await self._leases.release(SCHEDULE_LEASE, self.owner)

    async def run_due(self, keep_lease: KeepLease | None = None) -> UpsertCounts:
        """Fetch every enabled source whose time has come, once; one failing spares the others.

        A due refresh goes first: it covers Hugging Face's last two days, which are then fresh
        (asked again whether due), so one check never fetches a list twice."""
        total = UpsertCounts()
        for name in sorted(self.policies, key=lambda name: name != REFRESH):
            now = self.now()
            if next_fetch(self.policies[name], await self.fetch_log.state(name), now) > now:
                continue
            if keep_lease is not None and not await keep_lease():
                break
            try:
                total += await self.fetch_source(name, keep_lease)
            except FetchError as exc:
                log.warning("scheduled fetch from %s failed: %s", name, exc)
        return total

    async def fetch_enabled(self, day: date | None = None) -> UpsertCounts:
        """Every enabled source now, whatever the schedule says (failures logged, not raised);
        Hugging Face for ``day`` if given, else its last two days."""
        total = UpsertCounts()
        for name in self.policies:
            if name == REFRESH:  # momentum is the schedule's business, not a one-off fetch's
                continue
            try:
                if name == "hf" and day is not None:
                    total += await self.fetch_day(day)
                else:
                    total += await self.fetch_source(name)
            except FetchError as exc:
                log.warning("fetch from %s failed: %s", name, exc)
        return total

    async def ensure_fresh(self, since: datetime, days: Sequence[date] | None = None) -> None:
        """Re-fetch the Hugging Face lists of ``days`` (default: the last two) not tried since
        ``since``, waiting at most ``fresh_wait`` seconds. Never raises: a failure is in the fetch
        log, and the post then says so (the stale/empty note rule). A fetch still running after
        the wait goes on in the background (never cancelled half-way through an ingest)."""
        wanted = list(days) if days is not None else recent_days(self.now())
        task = asyncio.ensure_future(self._refresh_stale(since, wanted))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        try:
            await asyncio.wait_for(asyncio.shield(task), self._fresh_wait)
        except TimeoutError:
            log.warning(
                "the list fetch before a post takes over %.0f s; posting what is stored", self._fresh_wait
            )

    async def _refresh_stale(self, since: datetime, days: Sequence[date]) -> None:
        async with self._locks["hf"]:  # a post waiting for the running fetch shares it
            for day in days:
                tried = await self.fetch_log.last_at("hf", day, ok_only=False)
                if tried is not None and tried >= since:
                    continue
                try:
                    await self.fetch_day(day)
                except FetchError as exc:
                    log.warning("fetch before a post failed for %s: %s", day, exc)
