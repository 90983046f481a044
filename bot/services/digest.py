"""The daily digest: server settings, what a post says, and posting it exactly once.

What a post covers (which days' lists, which papers) is bot.domain.coverage; the plan is frozen
with the claim, and each channel's posted papers are recorded so none is posted there twice.

Posting goes through a ledger row per (server, local day): claimed before the first message,
each sent part's message id recorded as it goes, confirmed at the end. A run that finds a claim
left by a crashed run resumes it: it asks the channel which parts are already there (each part
carries a marker) and sends only the missing ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from bot.domain.coverage import MAX_DAYS, Candidate, Coverage, choose, coverage, plan_post, source_day
from bot.domain.delivery import Outcome, PostState, digest_nonce
from bot.domain.digest import DigestMessage, DigestPlan, plan_digest
from bot.domain.models import DAILY_LIST_SOURCES
from bot.domain.pacing import Pacer
from bot.domain.schedule import (
    DigestConfig,
    ListMode,
    due_day,
    local_date,
    next_post,
    parse_post_time,
    parse_timezone,
    post_instant,
)
from bot.errors import InvalidInput, PaperbotError
from bot.services.delivery import Lease, LeaseLost, new_instance_id, send_remaining
from bot.services.papers import utcnow
from bot.storage.connection import Store
from bot.storage.coverage import CoverageRepository
from bot.storage.digests import DigestRepository, PostRecord
from bot.storage.fetches import FetchLogRepository, FetchRecord
from bot.storage.papers import PaperRepository, StoredPaper

log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(hours=6)
# A post shows its list as fetched at most this long before the post time (else it fetches first).
FRESH_BEFORE_POST = timedelta(minutes=10)
MAX_PAPERS_LIMIT = 50
# Unfinished claims of this many recent days are resumed whatever the grace window says.
UNFINISHED_DAYS = timedelta(days=7)
# A fan-out (many servers due at once): posts in flight together, and messages a second. Below
# Discord's global 50 requests/s, so the bot's other requests fit beside it and no 429 comes.
FANOUT_CONCURRENCY = 16
FANOUT_RATE = 45.0
FANOUT_BURST = 5


class _Memo:
    """Within one fan-out, each distinct query and each distinct post is computed once: a thousand
    servers due with the same list share one rendering. Concurrent askers await the same future."""

    def __init__(self) -> None:
        self._futures: dict[Hashable, asyncio.Future[Any]] = {}

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        future = self._futures.get(key)
        if future is None:
            future = self._futures[key] = asyncio.ensure_future(compute())
        return await future


def parse_list_mode(text: str) -> ListMode:
    try:
        return ListMode(text.strip().lower())
    except ValueError:
        raise InvalidInput(
            "list must be complete (yesterday's whole list) or so-far (today's so far)."
        ) from None


class DestinationGone(PaperbotError):
    """The digest channel is gone or the bot may no longer post there: pause, tell the admin."""


class Poster(Protocol):
    """Where digests go (Discord, in the running bot)."""

    async def find_parts(self, channel_id: int, post_day: date, *, since: datetime) -> dict[int, int]:
        """Parts of ``post_day``'s digest in the channel among the messages after ``since``:
        part number -> message id."""

    async def send(self, channel_id: int, message: DigestMessage, *, nonce: str) -> int:
        """Send one part; returns its message id. Raises DestinationGone when the channel is unusable.
        ``nonce``: the same for the same part, so Discord keeps one message if it is sent twice."""

    async def open_thread(self, channel_id: int, message_id: int, name: str) -> None:
        """Start a discussion thread on a message."""


class ListFreshener(Protocol):
    """Re-fetches the daily lists a post is about to show (the fetching service)."""

    async def ensure_fresh(self, since: datetime, days: Sequence[date] | None = None) -> None:
        """The lists of ``days`` not fetched since ``since`` are fetched again, within a bounded
        wait; never raises."""


@dataclass(frozen=True, slots=True)
class PlannedPost:
    """A plan and what it covers; ``cover`` is None for a note (it covers nothing)."""

    plan: DigestPlan
    cover: Coverage | None
    paper_keys: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PostOutcome:
    guild_id: int
    post_day: date
    state: Outcome
    message_ids: tuple[int, ...] = ()
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class DigestStatus:
    config: DigestConfig
    last_post: PostRecord | None
    next_post: datetime | None
    last_fetch: FetchRecord | None


class DigestService:
    def __init__(
        self,
        database: Store,
        repository: DigestRepository,
        papers: PaperRepository,
        fetches: FetchLogRepository,
        coverage: CoverageRepository,
        *,
        clock: Callable[[], datetime] = utcnow,
        grace: timedelta = DEFAULT_GRACE,
        empty_note: bool = True,
        lease: Lease | None = None,
        pacer: Pacer | None = None,
        concurrency: int = FANOUT_CONCURRENCY,
        freshener: ListFreshener | None = None,
        owns: Callable[[int], bool] = lambda guild_id: True,
    ) -> None:
        self.database = database
        self.repository = repository
        self._papers = papers
        self._fetches = fetches
        self._coverage = coverage
        self._clock = clock
        self.grace = grace
        self.empty_note = empty_note
        self._freshener = freshener
        # Which servers this process posts for: those on its Discord shards (all, unsharded).
        self.owns = owns
        self._locks: dict[int, asyncio.Lock] = {}
        self.lease = lease or Lease(new_instance_id())
        self._pacer = pacer or Pacer(FANOUT_RATE, burst=FANOUT_BURST)
        self._concurrency = concurrency
        self._running = False
        self._again = False

    def now(self) -> datetime:
        return self._clock()

    def today(self, config: DigestConfig) -> date:
        """The server's local day now (what /digest preview and post-now are about)."""
        return local_date(self.now(), config.timezone)

    # ---- settings ------------------------------------------------------------------------------

    async def configure(
        self,
        guild_id: int,
        channel_id: int,
        *,
        post_time: str,
        timezone: str,
        max_papers: int = 10,
        weekdays_only: bool = False,
        thread: bool = False,
        list_mode: str = ListMode.COMPLETE.value,
    ) -> DigestConfig:
        """Create or replace a server's digest; setting it up again also lifts a pause."""
        if not 1 <= max_papers <= MAX_PAPERS_LIMIT:
            raise InvalidInput(f"max_papers must be between 1 and {MAX_PAPERS_LIMIT}.")
        config = DigestConfig(
            guild_id=guild_id,
            channel_id=channel_id,
            post_time=parse_post_time(post_time),
            timezone=parse_timezone(timezone),
            max_papers=max_papers,
            weekdays_only=weekdays_only,
            thread=thread,
            list_mode=parse_list_mode(list_mode),
        )
        async with self.database.transaction():
            await self.repository.save_config(config, self.now())
            await self._release_failed(guild_id)
        return config

    async def config(self, guild_id: int) -> DigestConfig | None:
        return await self.repository.config(guild_id)

    async def configs(self) -> list[DigestConfig]:
        return await self.repository.configs()

    async def owned_configs(self) -> list[DigestConfig]:
        """The digests this process schedules and posts: its own shards' servers."""
        return [config for config in await self.repository.configs() if self.owns(config.guild_id)]

    async def require(self, guild_id: int) -> DigestConfig:
        config = await self.repository.config(guild_id)
        if config is None:
            raise InvalidInput("This server has no daily digest yet: set one up with /digest setup.")
        return config

    async def status(self, guild_id: int) -> DigestStatus:
        config = await self.require(guild_id)
        return DigestStatus(
            config=config,
            last_post=await self.repository.last_post(guild_id),
            next_post=None if config.paused else next_post(config, self.now()),
            last_fetch=await self._fetches.last("hf"),
        )

    async def pause(self, guild_id: int, reason: str | None = None) -> DigestConfig:
        await self.require(guild_id)
        async with self.database.transaction():
            await self.repository.set_paused(guild_id, True, reason, self.now())
        return await self.require(guild_id)

    async def resume(self, guild_id: int) -> DigestConfig:
        await self.require(guild_id)
        async with self.database.transaction():
            await self.repository.set_paused(guild_id, False, None, self.now())
            await self._release_failed(guild_id)
        return await self.require(guild_id)

    async def remove(self, guild_id: int) -> None:
        async with self.database.transaction():
            await self.repository.delete_config(guild_id)

    async def _release_failed(self, guild_id: int) -> None:
        today = self.now().date()
        for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
            await self.repository.release(guild_id, day)

    # ---- what a post says ----------------------------------------------------------------------

    async def plan(self, config: DigestConfig, post_day: date) -> DigestPlan:
        """The post for ``post_day`` as it would go out now (what /digest preview shows)."""
        return (await self._planned(config, post_day, None)).plan

    async def preview(self, config: DigestConfig) -> tuple[date, DigestPlan]:
        """The next post not yet made (today's while it is to come or due, else the next one) and
        exactly what it would say if it went out now: the same planning as the post; one being
        sent shows its frozen plan."""
        now, day = self.now(), self.today(config)
        if not (due_day(config, now, self.grace) == day or post_instant(config, day) > now):
            day = local_date(next_post(config, now), config.timezone)
        existing = await self.repository.post(config.guild_id, day)
        if existing is not None and existing.state is PostState.CLAIMED and existing.plan is not None:
            return day, existing.plan  # being sent: exactly its frozen plan
        if existing is not None:
            after = max(now, post_instant(config, day))
            day = local_date(next_post(config, after), config.timezone)
        return day, await self.plan(config, day)

    async def coverage_of(self, config: DigestConfig, post_day: date) -> tuple[Coverage, bool]:
        """The days the post for ``post_day`` covers, and whether it is the server's first post."""
        last = await self._coverage.last_covered(config.guild_id)
        return coverage(post_instant(config, post_day), config.list_mode, last), last is None

    async def _planned(self, config: DigestConfig, post_day: date, memo: _Memo | None) -> PlannedPost:
        """What a new post for ``post_day`` covers (bot.domain.coverage): the lists of its days,
        minus what the channel already has, ranked; or a note saying why there is nothing. Within
        one fan-out (``memo``) each day's list is read once for every server."""
        memo = memo or _Memo()
        cover, first_post = await self.coverage_of(config, post_day)
        candidates: list[Candidate] = []
        listed_days = []
        for day in cover.days:
            listing = await self._listing(day, memo)
            if listing:
                listed_days.append(day)
            candidates += [Candidate(s.pk, s.paper, day, rank) for rank, s in enumerate(listing, 1)]
        old_list: tuple[date, int] | None = None
        if not candidates and first_post:
            # A first post with nothing in its days: the newest list there is, labelled with its
            # date and age (today's, as it stands, counts as 0 days old); too old: a note.
            today = source_day(post_instant(config, post_day))
            newest = await self._papers.latest_list_date(DAILY_LIST_SOURCES, on_or_before=today)
            if newest is None:
                failed = await self._last_failure()
                return self._note(config, post_day, f"No daily papers list has been fetched yet.{failed}")
            age = (today - newest).days
            if age > MAX_DAYS:
                note = f"No new papers: the newest list is from {newest:%A %d %B %Y} ({age} days old)."
                return self._note(config, post_day, note + await self._last_failure())
            listing = await self._listing(newest, memo)
            candidates = [Candidate(s.pk, s.paper, newest, rank) for rank, s in enumerate(listing, 1)]
            old_list = (newest, age)
            cover = Coverage((newest,), ListMode.SO_FAR if age == 0 else ListMode.COMPLETE)
        if not candidates:
            return await self._nothing_new(config, post_day, cover)
        posted = await self._coverage.posted(config.channel_id, [c.key for c in candidates])
        chosen, eligible = choose(candidates, posted, config.max_papers)
        if not chosen:
            # Everything listed is already in the channel: say why (a list repeating the one
            # before it is a stale source, not news).
            stale = await self._repeats(listed_days[-1]) if listed_days else None
            if stale:
                return self._note(config, post_day, stale)
            return await self._nothing_new(config, post_day, cover)
        keys = tuple(c.key for c in chosen)
        shown_old = old_list if old_list and old_list[1] > 0 else None

        async def render() -> DigestPlan:
            source = chosen[0].paper.source
            return plan_post(
                post_day, cover, chosen, eligible, source=source, listed_days=listed_days, old_list=shown_old
            )

        # Servers whose post says the same (same days, same papers) share one rendering.
        key = ("post", post_day, cover, keys, eligible, tuple(listed_days), shown_old)
        plan: DigestPlan = await memo.get(key, render)
        return PlannedPost(plan, cover, keys)

    async def _listing(self, day: date, memo: _Memo) -> list[StoredPaper]:
        listing: list[StoredPaper] = await memo.get(
            ("listing", day), lambda: self._papers.listing(day, DAILY_LIST_SOURCES)
        )
        return listing

    async def _nothing_new(self, config: DigestConfig, post_day: date, cover: Coverage) -> PlannedPost:
        """The stale/empty note: no list for the covered days, or nothing the channel lacks."""
        failed = await self._last_failure()
        newest = await self._papers.latest_list_date(DAILY_LIST_SOURCES, on_or_before=cover.last)
        since = f" since the list of {newest:%A %d %B}" if newest else ""
        return self._note(
            config, post_day, f"No new papers{since}: the source has not published one yet.{failed}"
        )

    async def _repeats(self, list_date: date) -> str | None:
        """A list identical to the one before it: a stale source, not new papers."""
        repository = self._papers
        previous = await repository.list_date_before(list_date, DAILY_LIST_SOURCES)
        if previous is None:
            return None
        now_ids = {s.paper.id for s in await repository.listing(list_date, DAILY_LIST_SOURCES)}
        before_ids = {s.paper.id for s in await repository.listing(previous, DAILY_LIST_SOURCES)}
        if now_ids and now_ids == before_ids:
            failed = await self._last_failure()
            return f"The list for {list_date:%A %d %B} repeats the one before (a stale source?).{failed}"
        return None

    async def _last_failure(self) -> str:
        """What a note adds when the source is failing (an admin sees why there is no new list)."""
        fetch = await self._fetches.last("hf")
        return f" The last fetch failed: {fetch.error}" if fetch and not fetch.ok else ""

    def _note(self, config: DigestConfig, post_day: date, note: str) -> PlannedPost:
        if not self.empty_note:
            return PlannedPost(DigestPlan(post_day, None, (), 0), None, ())
        plan = plan_digest(post_day, None, [], source="hf-api", max_papers=config.max_papers, note=note)
        return PlannedPost(plan, None, ())

    # ---- posting -------------------------------------------------------------------------------

    async def run_due(self, poster: Poster) -> list[PostOutcome]:
        """Post every digest whose time has come (within the grace window) and is not posted yet.

        Safe to call as often as you like: the ledger makes it idempotent. One server's failure
        never stops the others. Calls while a run is going (every server's timer fires in the same
        minute) do not start another: the running one makes one more pass when it is done.
        """
        if self._running:
            self._again = True
            return []
        self._running = True
        outcomes: list[PostOutcome] = []
        try:
            while True:
                self._again = False
                outcomes += await self._run_due_once(poster)
                if not self._again:
                    return outcomes
        finally:
            self._running = False

    async def _run_due_once(self, poster: Poster) -> list[PostOutcome]:
        """One fan-out: every due server at once, a bounded number in flight, each post rendered once."""
        now = self.now()
        configs = await self.owned_configs()
        due = [(config, day) for config in configs if (day := due_day(config, now, self.grace))]
        # A claim is finished however late (Discord failing for longer than the grace window, a
        # failed post released by /digest resume the next day): its papers are recorded as the
        # channel's from the claim on, so an unfinished one would lose them for good.
        unfinished = await self.repository.unfinished(now.date() - UNFINISHED_DAYS)
        by_guild = {config.guild_id: config for config in configs if not config.paused}
        due += [
            (by_guild[guild], day)
            for guild, day in unfinished
            if guild in by_guild and (by_guild[guild], day) not in due
        ]
        memo = _Memo()
        gate = asyncio.Semaphore(self._concurrency)

        async def one(config: DigestConfig, day: date) -> PostOutcome | None:
            async with gate:
                try:
                    return await self.post(config, day, poster, memo=memo)
                except Exception:
                    log.exception("digest for guild %s on %s failed; will retry", config.guild_id, day)
                    return None

        outcomes = await asyncio.gather(*(one(config, day) for config, day in due))
        return [o for o in outcomes if o is not None and o.state is not Outcome.ALREADY]

    async def post(
        self, config: DigestConfig, post_day: date, poster: Poster, *, memo: _Memo | None = None
    ) -> PostOutcome:
        """Post ``post_day``'s digest once, resuming a run that was interrupted.

        The claim freezes the plan (which papers, in which part, in which order): a resume sends
        exactly the remaining parts of that plan, whatever the list looks like now. The claim is
        leased to this process and renewed part by part; another process resumes it only once the
        lease has expired (this one died), so two processes never send the same post.
        """
        guild = config.guild_id
        lock = self._locks.setdefault(guild, asyncio.Lock())
        async with lock:
            existing = await self.repository.post(guild, post_day)
            if existing is not None and existing.state is not PostState.CLAIMED:
                done = existing.state in (PostState.POSTED, PostState.SKIPPED)
                state = Outcome.ALREADY if done else Outcome.FAILED
                return PostOutcome(
                    guild, post_day, state, tuple(existing.message_ids.values()), existing.error
                )
            if existing is None:
                await self._freshen(config, post_day, memo)
                planned = await self._planned(config, post_day, memo)
            elif existing.plan is not None:
                planned = PlannedPost(existing.plan, None, ())  # frozen at the claim: never re-planned
            else:
                planned = await self._planned(config, post_day, memo)
            plan = planned.plan
            now = self.now()
            async with self.database.transaction():
                record = await self.repository.claim(
                    plan, guild, owner=self.lease.owner, lease_until=self.lease.until(now), now=now
                )
                if record is None:
                    return PostOutcome(guild, post_day, Outcome.ELSEWHERE)
                plan = record.plan or plan  # the plan frozen by whoever claimed first
                if existing is None and record.claimed_at == now and planned.cover is not None:
                    # Claimed here: the channel's record keeps these papers out of every later post,
                    # and the covered days tell the next post where to start.
                    await self._coverage.record(
                        guild, config.channel_id, post_day, planned.cover, planned.paper_keys
                    )
                if not plan.messages:
                    await self.repository.finish(
                        guild, post_day, PostState.SKIPPED, self.now(), owner=self.lease.owner
                    )
                    return PostOutcome(guild, post_day, Outcome.SKIPPED)
            # Resuming: a claim someone made before (this run's own insert carries its timestamp).
            resuming = existing is not None or record.claimed_at != now
            return await self._send(config, plan, record, resuming=resuming, poster=poster)

    async def _send(
        self, config: DigestConfig, plan: DigestPlan, record: PostRecord, *, resuming: bool, poster: Poster
    ) -> PostOutcome:
        guild, day, owner = config.guild_id, plan.post_day, self.lease.owner
        sent = dict(record.message_ids)
        held_until = record.lease_until
        finished = False

        async def renew() -> None:
            nonlocal held_until
            now = self.now()
            if held_until is not None and held_until - now >= timedelta(seconds=0.75 * self.lease.seconds):
                # Claimed (or renewed) a moment ago: no other process can hold it before the lease
                # ends, and the part has most of the lease to go out. One write fewer per post: in a
                # fan-out the single writer's round trips set the pace.
                return
            async with self.database.transaction():
                held = await self.repository.renew(
                    guild, day, owner=owner, lease_until=self.lease.until(self.now())
                )
            if not held:
                raise LeaseLost(f"the digest of guild {guild} on {day} is being sent by another process")
            held_until = self.lease.until(now)

        async def send(part: int, message: DigestMessage) -> int:
            await renew()
            nonce = digest_nonce(config.channel_id, day, part)
            await asyncio.sleep(self._pacer.reserve())
            message_id = await poster.send(config.channel_id, message, nonce=nonce)
            if part == 1 and config.thread:
                await self._open_thread(poster, config, message_id, plan)
            return message_id

        async def record_part(part: int, message_id: int) -> None:
            nonlocal finished, held_until
            now = self.now()
            async with self.database.transaction():
                held = await self.repository.record_part(
                    guild, day, part, message_id, owner=owner, lease_until=self.lease.until(now)
                )
                if held and len(sent) == len(plan.messages):
                    # The last part: recorded and the post confirmed in one transaction.
                    await self.repository.finish(guild, day, PostState.POSTED, now, owner=owner)
                    finished = True
            held_until = self.lease.until(now)
            if not held:
                raise LeaseLost(f"the digest of guild {guild} on {day} is being sent by another process")

        async def find_sent() -> dict[int, int]:
            # A crash may have come between a send and recording it: the channel knows. Only
            # messages after the claim can be parts of it, however busy the channel was since.
            return await poster.find_parts(config.channel_id, day, since=record.claimed_at)

        try:
            await send_remaining(
                plan.messages, sent, send=send, record=record_part, find_sent=find_sent if resuming else None
            )
        except DestinationGone as exc:
            reason = str(exc)
            async with self.database.transaction():
                await self.repository.finish(guild, day, PostState.FAILED, self.now(), reason, owner=owner)
                await self.repository.set_paused(guild, True, reason, self.now())
            log.warning("digest for guild %s paused: %s", guild, reason)
            return PostOutcome(guild, day, Outcome.FAILED, tuple(sent.values()), reason)
        except LeaseLost as exc:
            log.warning("stopped sending: %s", exc)
            return PostOutcome(guild, day, Outcome.ELSEWHERE, tuple(sent.values()))
        if not finished:  # every part was already recorded (a resumed post): confirm it now
            async with self.database.transaction():
                await self.repository.finish(guild, day, PostState.POSTED, self.now(), owner=owner)
        return PostOutcome(guild, day, Outcome.POSTED, tuple(sent[p] for p in sorted(sent)))

    async def _freshen(self, config: DigestConfig, post_day: date, memo: _Memo | None = None) -> None:
        """A new post shows its lists as fetched shortly before the post time (late additions and
        current upvotes in; a digest set up a minute ago, a missed lead, a restart): the lists of
        the days it covers are fetched first if the stored ones are older."""
        freshener = self._freshener
        if freshener is None:
            return
        cover, _ = await self.coverage_of(config, post_day)
        since = min(self.now(), post_instant(config, post_day)) - FRESH_BEFORE_POST
        days = sorted({*cover.days, source_day(post_instant(config, post_day))})
        if memo is None:
            await freshener.ensure_fresh(since, days)
            return
        # Servers sharing a posting minute share the check (it reads the fetch log under the
        # fetcher's lock: a thousand of them one after the other held the first post back).
        await memo.get(("fresh", since, tuple(days)), lambda: freshener.ensure_fresh(since, days))

    @staticmethod
    async def _open_thread(poster: Poster, config: DigestConfig, message_id: int, plan: DigestPlan) -> None:
        try:
            await poster.open_thread(config.channel_id, message_id, f"Papers of {plan.post_day:%d %B %Y}")
        except Exception:
            # A thread is a nicety: the post itself stands.
            log.warning("could not open a thread for guild %s", config.guild_id, exc_info=True)
