"""Digests: settings per (server, channel), what a post says, and posting it exactly once.

A server may have several digests, one per channel, each with its own schedule, topic filter
(bot.domain.topics) and ledger. A daily post covers days' lists (bot.domain.coverage); a weekly
post the week's top papers by their latest upvotes (bot.domain.weekly). The plan is frozen with
the claim, and each channel's posted papers are recorded so none is posted there twice.

Posting goes through a ledger row per (server, channel, period): claimed before the first message,
each sent part's message id recorded as it goes, confirmed at the end. A run that finds a claim
left by a crashed run resumes it: it asks the channel which parts are already there (each part
carries a marker) and sends only the missing ones.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from bot.domain.coverage import MAX_DAYS, Candidate, Coverage, choose, coverage, plan_post, source_day
from bot.domain.delivery import Outcome, PostState, digest_nonce
from bot.domain.digest import DigestMessage, DigestPlan, digest_marker, plan_digest
from bot.domain.models import DAILY_LIST_SOURCES
from bot.domain.momentum import Period, Window
from bot.domain.pacing import Pacer
from bot.domain.redating import LedgerEntry, redated
from bot.domain.schedule import (
    Cadence,
    DigestConfig,
    ListMode,
    catch_up_window,
    due_day,
    local_date,
    next_post,
    parse_cadence,
    parse_post_time,
    parse_timezone,
    parse_weekday,
    period_of,
    post_instant,
    posts_on,
    scheduled,
)
from bot.domain.topics import TopicFilter, parse_topic, topic_line
from bot.domain.weekly import WeeklyEntry, plan_weekly, week_lists
from bot.errors import InvalidInput, PaperbotError
from bot.repeating_failure import RepeatingFailures
from bot.services.delivery import Lease, LeaseLost, new_instance_id, send_remaining
from bot.services.missed_digests import LOOK_BACK, MissedDigests
from bot.services.papers import utcnow
from bot.storage.connection import Store
from bot.storage.coverage import CoverageRepository
from bot.storage.digest_notices import DigestNoticeRepository, Missed
from bot.storage.digests import DigestRepository, PostRecord
from bot.storage.fetches import FetchLogRepository, FetchRecord
from bot.storage.momentum import MomentumRepository
from bot.storage.papers import PaperRepository, StoredPaper

log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(hours=6)
# A post shows its list as fetched at most this long before the post time (else it fetches first).
FRESH_BEFORE_POST = timedelta(minutes=10)
MAX_PAPERS_LIMIT = 50
# Unfinished claims of this many recent days are resumed whatever the grace window says.
UNFINISHED_DAYS = timedelta(days=7)
# How far back a change of time zone re-dates the ledger: past every period a check still reads
# (unfinished claims, missed days, /digest show), whose rows must all be on one calendar.
REDATE_WINDOW = timedelta(days=21)
# Digests (channels) one server may have: enough for a general and several topic channels; a
# list of them still fits one /digest show page.
MAX_DIGESTS_PER_SERVER = 10
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
    """The digest channel is gone, the bot may no longer post there, or Discord refuses the post's
    messages for good (a server's AutoMod): pause, tell the admin."""


class Poster(Protocol):
    """Where digests go (Discord, in the running bot)."""

    async def find_parts(self, channel_id: int, marker: str, *, since: datetime) -> dict[int, int]:
        """Parts of the post with ``marker`` (bot.domain.digest) in the channel among the messages
        after ``since``: part number -> message id."""

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
    channel_id: int
    post_day: date
    state: Outcome
    message_ids: tuple[int, ...] = ()
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Preview:
    """/digest preview: the period post-now would post and its plan (None: it is in the ledger
    already, ``done`` says how)."""

    post_day: date
    plan: DigestPlan | None
    done: PostRecord | None


@dataclass(frozen=True, slots=True)
class DigestStatus:
    config: DigestConfig
    last_post: PostRecord | None
    next_post: datetime | None  # the next post that will go out at its time (the ledger consulted)
    last_fetch: FetchRecord | None
    posting_now: date | None = None  # a period whose post goes out now (its time, a catch-up, a resume)
    posting_claim: PostRecord | None = None  # the post of ``posting_now`` being finished (a resume)
    missed: tuple[Missed, ...] = ()  # recent periods not posted, newest first, with why
    current: CurrentPeriod | None = None  # today's (this week's) post: done, to come, or none
    checked_at: datetime | None = None  # when this status was read (what "now" means in it)


@dataclass(frozen=True, slots=True)
class CurrentPeriod:
    """The current period's post (today's; this week's), so an admin who just changed the settings
    is told what became of it: in the ledger (``record``: posted, being sent, not posted and why),
    still to come at ``at``, or none (``at`` None: no post that day, weekdays only)."""

    post_day: date
    at: datetime | None
    record: PostRecord | None


_DUE_LOOKUP = "due digests"  # the key of run_due's own failure spell (a post's is its ledger and day)


class DigestService:
    def __init__(
        self,
        database: Store,
        repository: DigestRepository,
        papers: PaperRepository,
        fetches: FetchLogRepository,
        coverage: CoverageRepository,
        momentum: MomentumRepository,
        notices: DigestNoticeRepository,
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
        self._momentum = momentum
        self._clock = clock
        self.grace = grace
        self.empty_note = empty_note
        self._freshener = freshener
        # Which servers this process posts for: those on its Discord shards (all, unsharded).
        self.owns = owns
        self._locks: dict[tuple[int, int], asyncio.Lock] = {}
        self.lease = lease or Lease(new_instance_id())
        self._pacer = pacer or Pacer(FANOUT_RATE, burst=FANOUT_BURST)
        self._concurrency = concurrency
        self._running = False
        self._failing = RepeatingFailures(log)  # a post failing every tick (a full disk) logs a spell
        self._again = False
        self._notices = notices
        self.missed = MissedDigests(
            database, self._notices, grace=grace, window=lambda config: catch_up_window(config, grace)
        )

    def now(self) -> datetime:
        return self._clock()

    def today(self, config: DigestConfig) -> date:
        """The digest's current period (its first day) in the server's time zone: today for a daily
        digest, this ISO week's Monday for a weekly one (what /digest post-now is about)."""
        return period_of(config, local_date(self.now(), config.timezone))

    # ---- settings ------------------------------------------------------------------------------

    async def configure(
        self,
        guild_id: int,
        channel_id: int,
        *,
        post_time: str,
        timezone: str,
        max_papers: int | None = None,
        weekdays_only: bool | None = None,
        thread: bool | None = None,
        list_mode: str | None = None,
        topic: str | None = None,
        cadence: str | None = None,
        weekday: str | None = None,
        admin_id: int | None = None,
    ) -> DigestConfig:
        """Create or replace the digest of a channel; setting it up again also lifts a pause.
        ``topic``: a follow-style query (only matching papers), stored canonical; ``*``: every paper.

        An option left out (None) keeps the channel's digest's value, as an admin changing the time
        expects (it used to reset: the topic went, and a topic digest became a general one); a new
        digest takes the default. Options of the other cadence are not kept across a switch
        (weekdays_only and list mean nothing to a weekly digest, weekday to a daily one).
        ``admin_id``: who set it up, told if a post of it cannot be made."""
        if max_papers is not None and not 1 <= max_papers <= MAX_PAPERS_LIMIT:
            raise InvalidInput(f"max_papers must be between 1 and {MAX_PAPERS_LIMIT}.")
        async with self.database.transaction():
            await self.repository.hold_digest_limit(guild_id)
            existing = await self.repository.configs(guild_id)
            previous = next((c for c in existing if c.channel_id == channel_id), None)
            new_cadence = (
                parse_cadence(cadence)
                if cadence is not None
                else (previous.cadence if previous else Cadence.DAILY)
            )
            same = previous if previous is not None and previous.cadence is new_cadence else None
            mode = (
                parse_list_mode(list_mode)
                if list_mode is not None
                else (same.list_mode if same else ListMode.COMPLETE)
            )
            skips_weekends = weekdays_only if weekdays_only is not None else bool(same and same.weekdays_only)
            _check_cadence_options(new_cadence, weekday, skips_weekends, mode)
            if topic is not None and topic.strip() == EVERY_PAPER:
                kept_topic = None
            elif topic is not None and topic.strip():
                kept_topic = parse_topic(topic)
            else:
                kept_topic = previous.topic if previous else None
            config = DigestConfig(
                guild_id=guild_id,
                channel_id=channel_id,
                post_time=parse_post_time(post_time),
                timezone=parse_timezone(timezone),
                max_papers=max_papers
                if max_papers is not None
                else (previous.max_papers if previous else 10),
                weekdays_only=skips_weekends,
                thread=thread if thread is not None else bool(previous and previous.thread),
                list_mode=mode,
                topic=kept_topic,
                cadence=new_cadence,
                weekday=parse_weekday(weekday) if weekday is not None else (same.weekday if same else 0),
                # From the start of this minute: set up for the current minute (to try it), it posts now.
                schedule_from=self.now().replace(second=0, microsecond=0),
            )
            others = [c for c in existing if c.channel_id != channel_id]
            if len(others) >= MAX_DIGESTS_PER_SERVER:
                raise InvalidInput(
                    f"This server has {len(others)} digests, the most allowed: "
                    "remove one with /digest remove first."
                )
            await self.repository.save_config(config, self.now())
            if previous is not None:
                await self._redate(previous, config)
                await self._settle_current(config)
            elif (removed := await self.repository.take_removed(config)) is not None:
                # Set up again after /digest remove: its ledger is on the removed digest's calendar.
                await self._redate(removed, config)
            if admin_id is not None:
                await self._notices.set_admin(guild_id, channel_id, admin_id)
            await self._release_failed(config)
        return config

    async def _redate(self, previous: DigestConfig, config: DigestConfig) -> None:
        """A new time zone: the recent ledger rows move to the periods they fall in on its
        calendar (bot.domain.redating), so a local day posted under the old zone is not posted
        again and one that was not is not taken for posted."""
        if previous.timezone == config.timezone:
            return  # one calendar: nothing moves (a late catch-up keeps the day it was for)
        rows = await self.repository.ledger_days(config.guild_id, config.channel_id)
        since = local_date(self.now(), previous.timezone) - REDATE_WINDOW
        recent = [
            LedgerEntry(
                row.cadence,
                row.post_day,
                post_instant(replace(previous, cadence=row.cadence), row.post_day)
                if row.missed
                else row.claimed_at,
                posted=not row.missed,
            )
            for row in rows
            if row.post_day >= since
        ]
        moves = redated(
            recent,
            kept=[(row.cadence, row.post_day) for row in rows if row.post_day < since],
            old_zone=previous.timezone,
            new_zone=config.timezone,
        )
        if moves:
            await self.repository.move_periods(config.guild_id, config.channel_id, moves)
            log.info(
                "digest for guild %s channel %s re-dated into %s: %s",
                config.guild_id,
                config.channel_id,
                config.timezone,
                ", ".join(f"{old} -> {new}" for (_, old), new in sorted(moves.items())),
            )

    async def _settle_current(self, config: DigestConfig) -> None:
        """Changed settings whose time today (this week) came before the change, with nothing
        posted yet in the period: it will not be posted, and that is recorded with why (shown by
        /digest show and the setup's reply; /digest post-now still posts it), never skipped silently."""
        day = self.today(config)
        at = post_instant(config, day)
        if not posts_on(config, day) or scheduled(config, at):
            return
        if await self.repository.post(config.ledger, day) is not None:
            return  # posted already (or being posted, or recorded): the period is settled
        local = self.now().astimezone(at.tzinfo)
        reason = (
            f"the digest's settings were changed at {local:%H:%M} {config.timezone}, "
            f"after its new time ({at:%H:%M}) had passed"
        )
        if await self._notices.record_missed(config.ledger, day, reason, self.now()):
            # Told by the setup's reply itself: no DM about what the admin just did.
            await self._notices.open_notice(config.ledger, day, reason, self.now(), told=True)

    async def config(self, guild_id: int, channel_id: int) -> DigestConfig | None:
        return await self.repository.config(guild_id, channel_id)

    async def configs(self, guild_id: int | None = None) -> list[DigestConfig]:
        """Every digest (of one server)."""
        return await self.repository.configs(guild_id)

    async def owned_configs(self) -> list[DigestConfig]:
        """The digests this process schedules and posts: its own shards' servers."""
        return [config for config in await self.repository.configs() if self.owns(config.guild_id)]

    async def require(self, guild_id: int, channel_id: int | None = None) -> DigestConfig:
        """A server's digest in ``channel_id``; without a channel, the server's only digest (with
        several, the admin is asked which)."""
        if channel_id is not None:
            config = await self.repository.config(guild_id, channel_id)
            if config is None:
                raise InvalidInput(f"<#{channel_id}> has no digest: /digest show lists this server's.")
            return config
        configs = await self.repository.configs(guild_id)
        if not configs:
            raise InvalidInput("This server has no digest yet: set one up with /digest setup.")
        if len(configs) > 1:
            channels = ", ".join(f"<#{c.channel_id}>" for c in configs)
            raise InvalidInput(
                f"This server has {len(configs)} digests ({channels}): say which with channel."
            )
        return configs[0]

    async def status(self, config: DigestConfig) -> DigestStatus:
        posting_now, claim, upcoming = (None, None, None) if config.paused else await self._upcoming(config)
        today = self.today(config)
        return DigestStatus(
            config=config,
            last_post=await self.repository.last_post(config.ledger),
            next_post=upcoming,
            last_fetch=await self._fetches.last("hf"),
            posting_now=posting_now,
            posting_claim=claim,
            missed=tuple(await self._notices.missed(config.ledger, (self.now() - LOOK_BACK).date())),
            current=CurrentPeriod(
                today,
                post_instant(config, today) if posts_on(config, today) else None,
                await self.repository.post(config.ledger, today),
            ),
            checked_at=self.now(),
        )

    async def _upcoming(self, config: DigestConfig) -> tuple[date | None, PostRecord | None, datetime]:
        """The period posted now (due and not yet done: its time, a catch-up, or a claim being
        finished: that claim), and when the next post goes out (``_next_unposted``), so what an
        admin is told is what happens."""
        due = due_day(config, self.now(), self.grace)
        existing = None
        if due is not None:
            existing = await self.repository.post(config.ledger, due)
            if existing is not None and existing.state is not PostState.CLAIMED:
                due, existing = None, None
        return due, existing, await self._next_unposted(config)

    async def _next_unposted(self, config: DigestConfig) -> datetime:
        """The next scheduled post whose period has no post yet: after /digest post-now, the
        period just posted is done, so the next one is a day (or a week) later; after a change of
        time zone, a period posted under the old settings is not posted again."""
        at = next_post(config, self.now())
        while await self.repository.post(config.ledger, period_of(config, local_date(at, config.timezone))):
            at = next_post(config, at)
        return at

    async def statuses(self, guild_id: int) -> list[DigestStatus]:
        """The status of each of a server's digests, in the order they were set up."""
        return [await self.status(config) for config in await self.repository.configs(guild_id)]

    async def pause(
        self, guild_id: int, channel_id: int | None = None, reason: str | None = None
    ) -> DigestConfig:
        config = await self.require(guild_id, channel_id)
        async with self.database.transaction():
            await self.repository.set_paused(guild_id, config.channel_id, True, reason, self.now())
        return await self.require(guild_id, config.channel_id)

    async def resume(self, guild_id: int, channel_id: int | None = None) -> DigestConfig:
        config = await self.require(guild_id, channel_id)
        async with self.database.transaction():
            await self.repository.set_paused(guild_id, config.channel_id, False, None, self.now())
            await self._release_failed(config)
        return await self.require(guild_id, config.channel_id)

    async def remove(self, guild_id: int, channel_id: int) -> DigestConfig:
        """Stop a channel's digest. Its ledger stays: set up again, it posts nothing twice."""
        config = await self.require(guild_id, channel_id)
        async with self.database.transaction():
            await self.repository.remember_removed(config, self.now())
            await self.repository.delete_config(guild_id, channel_id)
        return config

    async def _release_failed(self, config: DigestConfig) -> None:
        """The failed posts of yesterday and today (the period before and this one), and every
        half-sent one the unfinished claims' pass still resumes (UNFINISHED_DAYS): a post whose
        later parts were refused on a Thursday, resumed on the Saturday, sends the rest (its papers
        were recorded as the channel's at the claim). An older post nothing of which went out
        stays told as not posted, not posted days late."""
        today = period_of(config, self.now().date())
        step = timedelta(days=7 if config.cadence is Cadence.WEEKLY else 1)
        await self.repository.release(
            config.ledger, today - step, started_since=min(today - step, self.now().date() - UNFINISHED_DAYS)
        )

    # ---- what a post says ----------------------------------------------------------------------

    async def plan(self, config: DigestConfig, post_day: date) -> DigestPlan:
        """The post for ``post_day`` as it would go out now (what /digest preview shows)."""
        return (await self._planned(config, post_day, None)).plan

    async def preview(self, config: DigestConfig) -> Preview:
        """What /digest post-now would post now, planned exactly as the post plans it: the current
        period (today's, this week's: ``today``), whatever the schedule says; a post being sent shows
        its frozen plan. A period already posted (or failed) has no plan: post-now would not post it."""
        day = self.today(config)
        existing = await self.repository.post(config.ledger, day)
        if existing is not None and existing.missed:  # post-now posts a missed day after all
            return Preview(day, await self.plan(config, day), None)
        if existing is not None and existing.state is not PostState.CLAIMED:
            return Preview(day, None, existing)
        if existing is not None and existing.plan is not None:
            return Preview(day, existing.plan, existing)  # being sent: exactly its frozen plan
        return Preview(day, await self.plan(config, day), existing)

    async def coverage_of(self, config: DigestConfig, post_day: date) -> tuple[Coverage, bool]:
        """The days the post for ``post_day`` covers, and whether it is the digest's first post."""
        last = await self._coverage.last_covered(config.guild_id, config.channel_id)
        return coverage(post_instant(config, post_day), config.list_mode, last), last is None

    async def _planned(self, config: DigestConfig, post_day: date, memo: _Memo | None) -> PlannedPost:
        """What a new post for ``post_day`` covers (bot.domain.coverage): the lists of its days,
        minus what the channel already has, ranked; or a note saying why there is nothing. Within
        one fan-out (``memo``) each day's list is read once for every server."""
        memo = memo or _Memo()
        if config.cadence is Cadence.WEEKLY:
            return await self._planned_weekly(config, post_day, memo)
        cover, first_post = await self.coverage_of(config, post_day)
        candidates: list[Candidate] = []
        listed_days = []
        for day in cover.days:
            listing = await self._listing(day, memo)
            if listing:
                listed_days.append(day)
            candidates += [Candidate(s.pk, s.paper, day, rank) for rank, s in enumerate(listing, 1)]
        listed_any = bool(candidates)
        candidates = self._on_topic(config, candidates)
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
            listed_any = bool(candidates)
            candidates = self._on_topic(config, candidates)
            old_list = (newest, age)
            cover = Coverage((newest,), ListMode.SO_FAR if age == 0 else ListMode.COMPLETE)
        if not candidates and listed_any and config.topic:
            # The empty-day rule for a topic: lists came, but nothing on the topic. They count as
            # covered, so a quiet week is not later reported as days missed while the bot was away.
            days = listed_days or list(cover.days)
            return self._note(config, post_day, _off_topic(config.topic, days), covers=cover)
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
                post_day,
                cover,
                chosen,
                eligible,
                source=source,
                listed_days=listed_days,
                old_list=shown_old,
                topic=config.topic,
            )

        # Servers whose post says the same (same days, same papers) share one rendering.
        key = ("post", post_day, cover, keys, eligible, tuple(listed_days), shown_old, config.topic)
        plan: DigestPlan = await memo.get(key, render)
        return PlannedPost(plan, cover, keys)

    async def _planned_weekly(self, config: DigestConfig, post_day: date, memo: _Memo) -> PlannedPost:
        """A weekly post: the week's top papers by their latest upvotes (the momentum table), on
        the topic, minus what the channel already has. The week is the seven complete source days
        before the scheduled post time, whenever a caught-up post actually goes out, and the lists
        of a week whose post was missed (bot.domain.weekly)."""
        last = await self._coverage.last_covered(config.guild_id, config.channel_id, Cadence.WEEKLY)
        days = week_lists(post_instant(config, post_day), last)
        span = Window(Period.WEEK, days[0], days[-1])

        async def ranked() -> list[WeeklyEntry]:
            listed = await self._momentum.count_listed(span, DAILY_LIST_SOURCES)
            counted = await self._momentum.top(span, DAILY_LIST_SOURCES, limit=max(listed, 1))
            return [WeeklyEntry(c.stored.pk, c.stored.paper, c.upvotes) for c in counted]

        week: list[WeeklyEntry] = await memo.get(("week", span), ranked)
        on_topic = [e for e in week if _matches(config, e)]
        # The week counts as covered even when its post is a note: the next post starts after it.
        cover = Coverage(days, ListMode.COMPLETE)
        if not on_topic:
            if week and config.topic:
                return self._weekly_note(config, post_day, days, _off_topic(config.topic, days), cover)
            note = f"No daily list was stored for {span.describe()}." + await self._last_failure()
            return self._weekly_note(config, post_day, days, note, cover)
        posted = await self._coverage.posted(config.channel_id, [e.key for e in on_topic])
        eligible = [e for e in on_topic if e.key not in posted]
        if not eligible:
            note = "Every paper of the week is already in this channel."
            return self._weekly_note(config, post_day, days, note, cover)
        chosen = eligible[: config.max_papers]
        updated = await self._momentum.last_updated(span.start, span.end, DAILY_LIST_SOURCES)
        plan = plan_weekly(post_day, days, chosen, len(eligible), topic=config.topic, counted_at=updated)
        return PlannedPost(plan, cover, tuple(e.key for e in chosen))

    def _weekly_note(
        self, config: DigestConfig, post_day: date, days: Sequence[date], note: str, cover: Coverage
    ) -> PlannedPost:
        if not self.empty_note:
            return PlannedPost(DigestPlan(post_day, None, (), 0), cover, ())
        return PlannedPost(plan_weekly(post_day, days, [], 0, topic=config.topic, note=note), cover, ())

    def _on_topic(self, config: DigestConfig, candidates: list[Candidate]) -> list[Candidate]:
        if not config.topic:
            return candidates
        wanted = _topic_filter(config.topic)
        return [c for c in candidates if wanted(c.paper)]

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
        if fetch is None or fetch.ok:
            return ""
        # The note is public: members learn when, the admin finds why (the error, with the source's
        # address and the exception) in the log and in `paperbot doctor`, not in the channel.
        when = fetch.fetched_at.astimezone(UTC)
        return f" The last fetch from Hugging Face failed ({when:%d %b %H:%M} UTC): the bot's log says why."

    def _note(
        self, config: DigestConfig, post_day: date, note: str, *, covers: Coverage | None = None
    ) -> PlannedPost:
        """A post saying why there are no papers; ``covers``: the days it stands for (None: none)."""
        if not self.empty_note:
            return PlannedPost(DigestPlan(post_day, None, (), 0), covers, ())
        if config.topic:
            note = f"{topic_line(config.topic)}\n{note}"
        plan = plan_digest(post_day, None, [], source="hf-api", max_papers=config.max_papers, note=note)
        return PlannedPost(plan, covers, ())

    # ---- posting -------------------------------------------------------------------------------

    @property
    def store_failing(self) -> bool:
        """The last tick could not read which digests are due (the store down): already said once."""
        return self._failing.failing(key=_DUE_LOOKUP)

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
                try:
                    outcomes += await self._run_due_once(poster)
                except Exception as exc:
                    # The store cannot be read (PostgreSQL restarting): the next tick tries again. A
                    # spell of one line, as a post failing every tick, not a traceback each tick.
                    self._failing.failed("looking for due digests", exc, key=_DUE_LOOKUP)
                    return outcomes
                self._failing.succeeded("looking for due digests", key=_DUE_LOOKUP)
                if not self._again:
                    return outcomes
        finally:
            self._running = False

    async def _run_due_once(self, poster: Poster) -> list[PostOutcome]:
        """One fan-out: every due server at once, a bounded number in flight, each post rendered once."""
        now = self.now()
        configs = await self.owned_configs()
        try:
            await self.missed.record(configs, now)
        except Exception as exc:  # noticing misses must never hold up today's posts
            log.warning(
                "could not look for missed digest days (tried again in 10 minutes): %s: %s",
                type(exc).__name__,
                exc,
            )
        due = [(config, day) for config in configs if (day := due_day(config, now, self.grace))]
        # A claim is finished however late (Discord failing for longer than the grace window, a
        # failed post released by /digest resume the next day): its papers are recorded as the
        # channel's from the claim on, so an unfinished one would lose them for good.
        unfinished = await self.repository.unfinished(now.date() - UNFINISHED_DAYS)
        by_key = {config.ledger: config for config in configs if not config.paused}
        due += [
            (by_key[key], day) for key, day in unfinished if key in by_key and (by_key[key], day) not in due
        ]
        memo = _Memo()
        gate = asyncio.Semaphore(self._concurrency)

        async def one(config: DigestConfig, day: date) -> PostOutcome | None:
            async with gate:
                what = f"digest for guild {config.guild_id} channel {config.channel_id} on {day}"
                try:
                    outcome = await self.post(config, day, poster, memo=memo)
                except Exception as exc:
                    self._failing.failed(what, exc, key=(config.ledger, day))
                    return None
                self._failing.succeeded(what, key=(config.ledger, day))
                return outcome

        outcomes = await asyncio.gather(*(one(config, day) for config, day in due))
        return [o for o in outcomes if o is not None and o.state is not Outcome.ALREADY]

    async def post_now(self, config: DigestConfig, poster: Poster) -> PostOutcome:
        """/digest post-now: the current period's post, also when its time passed while paperbot
        was down (recorded as missed: the admin asks for it, so it is not a stale post at an odd
        hour)."""
        day = self.today(config)
        async with self.database.transaction():
            await self.repository.reopen_missed(config.ledger, day)
        return await self.post(config, day, poster)

    async def post(
        self, config: DigestConfig, post_day: date, poster: Poster, *, memo: _Memo | None = None
    ) -> PostOutcome:
        """Post the digest of the period starting ``post_day`` once, resuming an interrupted run.

        The claim freezes the plan (which papers, in which part, in which order): a resume sends
        exactly the remaining parts of that plan, whatever the list looks like now. The claim is
        leased to this process and renewed part by part; another process resumes it only once the
        lease has expired (this one died), so two processes never send the same post.
        """
        guild, channel, key = config.guild_id, config.channel_id, config.ledger
        lock = self._locks.setdefault(config.key, asyncio.Lock())
        async with lock:
            existing = await self.repository.post(key, post_day)
            if existing is not None and existing.state is not PostState.CLAIMED:
                done = existing.state in (PostState.POSTED, PostState.SKIPPED)
                state = Outcome.ALREADY if done else Outcome.FAILED
                return PostOutcome(
                    guild, channel, post_day, state, tuple(existing.message_ids.values()), existing.error
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
                    plan, key, post_day, owner=self.lease.owner, lease_until=self.lease.until(now), now=now
                )
                if record is None:
                    return PostOutcome(guild, channel, post_day, Outcome.ELSEWHERE)
                plan = record.plan or plan  # the plan frozen by whoever claimed first
                first_claim = existing is None or existing.plan is None  # new, or a reopened miss
                if first_claim and record.claimed_at == now and planned.cover is not None:
                    # Claimed here: the channel's record keeps these papers out of every later post,
                    # and the covered days tell the next post where to start.
                    await self._coverage.record(key, post_day, planned.cover, planned.paper_keys)
                if not plan.messages:
                    await self.repository.finish(
                        key, post_day, PostState.SKIPPED, self.now(), owner=self.lease.owner
                    )
                    return PostOutcome(guild, channel, post_day, Outcome.SKIPPED)
            # Resuming: a claim someone made before (this run's own insert carries its timestamp).
            resuming = existing is not None or record.claimed_at != now
            return await self._send(config, plan, record, resuming=resuming, poster=poster)

    async def _send(
        self, config: DigestConfig, plan: DigestPlan, record: PostRecord, *, resuming: bool, poster: Poster
    ) -> PostOutcome:
        guild, channel, key = config.guild_id, config.channel_id, config.ledger
        # The ledger row's period; the plan's own day (in its nonces and markers) stays as frozen
        # when a change of time zone re-dated the row while it was being sent.
        day, owner = record.post_day, self.lease.owner
        weekly = config.cadence is Cadence.WEEKLY
        sent = dict(record.message_ids)
        held_until = record.lease_until
        finished = False
        what = f"the digest of guild {guild} in channel {channel} for {day}"

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
                    key, day, owner=owner, lease_until=self.lease.until(self.now())
                )
            if not held:
                raise LeaseLost(f"{what} is being sent by another process")
            held_until = self.lease.until(now)

        async def send(part: int, message: DigestMessage) -> int:
            await renew()
            nonce = digest_nonce(channel, plan.post_day, part, weekly=weekly, claimed_at=record.claimed_at)
            await asyncio.sleep(self._pacer.reserve())
            message_id = await poster.send(channel, message, nonce=nonce)
            if part == 1 and config.thread:
                await self._open_thread(poster, config, message_id, plan)
            return message_id

        async def record_part(part: int, message_id: int) -> None:
            nonlocal finished, held_until
            now = self.now()
            async with self.database.transaction():
                held = await self.repository.record_part(
                    key, day, part, message_id, owner=owner, lease_until=self.lease.until(now)
                )
                if held and len(sent) == len(plan.messages):
                    # The last part: recorded and the post confirmed in one transaction.
                    await self.repository.finish(key, day, PostState.POSTED, now, owner=owner)
                    finished = True
            held_until = self.lease.until(now)
            if not held:
                raise LeaseLost(f"{what} is being sent by another process")

        async def find_sent() -> dict[int, int]:
            # A crash may have come between a send and recording it: the channel knows. Only
            # messages after the claim can be parts of it, however busy the channel was since.
            found = await poster.find_parts(
                channel, plan.marker or digest_marker(plan.post_day), since=record.claimed_at
            )
            if not found:
                return found
            others = await self.repository.messages_of_other_posts(key, day, day - UNFINISHED_DAYS)
            return {part: message_id for part, message_id in found.items() if message_id not in others}

        try:
            await send_remaining(
                plan.messages, sent, send=send, record=record_part, find_sent=find_sent if resuming else None
            )
        except DestinationGone as exc:
            reason = str(exc)
            async with self.database.transaction():
                await self.repository.finish(key, day, PostState.FAILED, self.now(), reason, owner=owner)
                await self.repository.set_paused(guild, channel, True, reason, self.now())
                await self._notices.open_notice(key, day, reason, self.now())  # the admin is told
            log.warning("digest for guild %s channel %s paused: %s", guild, channel, reason)
            return PostOutcome(guild, channel, day, Outcome.FAILED, tuple(sent.values()), reason)
        except LeaseLost as exc:
            log.warning("stopped sending: %s", exc)
            return PostOutcome(guild, channel, day, Outcome.ELSEWHERE, tuple(sent.values()))
        if not finished:  # every part was already recorded (a resumed post): confirm it now
            async with self.database.transaction():
                await self.repository.finish(key, day, PostState.POSTED, self.now(), owner=owner)
        return PostOutcome(guild, channel, day, Outcome.POSTED, tuple(sent[p] for p in sorted(sent)))

    async def _freshen(self, config: DigestConfig, post_day: date, memo: _Memo | None = None) -> None:
        """A new post shows its lists as fetched shortly before the post time (late additions and
        current upvotes in; a digest set up a minute ago, a missed lead, a restart): the lists of
        the days it covers are fetched first if the stored ones are older. A weekly post ranks by
        the momentum table's latest counts (kept fresh by the momentum refresh): no fetch here."""
        freshener = self._freshener
        if freshener is None or config.cadence is Cadence.WEEKLY:
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
        weekly = config.cadence is Cadence.WEEKLY
        if weekly and plan.list_date is not None:
            # The week its lists cover ends the day before the post: not "the week of" the post.
            name = f"Papers of the week to {plan.list_date:%A %d %B %Y}"
        elif weekly:
            name = f"Papers of the week before {plan.post_day:%d %B %Y}"
        else:
            name = f"Papers of {plan.post_day:%d %B %Y}"
        try:
            await poster.open_thread(config.channel_id, message_id, name)
        except Exception:
            # A thread is a nicety: the post itself stands.
            log.warning("could not open a thread for guild %s", config.guild_id, exc_info=True)


@functools.lru_cache(maxsize=256)
def _topic_filter(topic: str) -> TopicFilter:
    """Parsed once per topic: every fan-out asks again for each candidate."""
    return TopicFilter(topic)


def _matches(config: DigestConfig, entry: WeeklyEntry) -> bool:
    return config.topic is None or _topic_filter(config.topic)(entry.paper)


def _off_topic(topic: str, days: Sequence[date]) -> str:
    """The empty-day note of a topic digest: lists came, none of their papers is on the topic."""
    names = [f"{day:%A %d %B}" for day in days]
    span = names[0] if len(names) == 1 else f"{names[0]} – {names[-1]}"
    return f"No papers on this topic in the lists of {span}."


EVERY_PAPER = "*"  # /digest setup topic:* drops a digest's topic (left out, the topic is kept)


def _check_cadence_options(
    cadence: Cadence, weekday: str | None, weekdays_only: bool, mode: ListMode
) -> None:
    """Options that mean nothing for the chosen cadence are refused, not silently ignored."""
    if cadence is Cadence.DAILY and weekday is not None:
        raise InvalidInput("weekday is for weekly digests: add cadence:weekly, or leave weekday out.")
    if cadence is Cadence.WEEKLY and (weekdays_only or mode is not ListMode.COMPLETE):
        raise InvalidInput(
            "A weekly digest posts once a week and covers the whole week: leave out weekdays_only and list."
        )
