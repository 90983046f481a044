"""When things run: the only module that knows apscheduler.

Digests: one job per digest (server and channel) at its local posting time, fired at the instants
bot.domain.schedule gives (where due_day's catch-up window starts, DST change days included), and
a minute tick that catches up whatever is due but not posted (a restart, a transient failure).
Every job calls an idempotent service function, so overlapping triggers cannot post twice: the
ledger decides, not the scheduler.

Sources: one bot-wide job, independent of digests, that fetches whatever source is due. When a
source is due comes from its fetch log, not from this job's timer, so a restart fetches at once
only when the last fetch is old.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.domain.schedule import DigestConfig, next_post

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]
TICK = timedelta(minutes=1)


class PostTrigger(BaseTrigger):  # type: ignore[misc]  # apscheduler 3 is untyped
    """A digest's post instants, from the schedule's own ``next_post``.

    apscheduler's CronTrigger agrees with it on ordinary days but skips a post time that a
    spring-forward gap swallows at midnight (00:30 America/Santiago on 6 September 2026 fires
    the next day), leaving only the tick: with a catch-up window shorter than the tick, that
    day's post would never go out. One function for both keeps them on the same instant."""

    def __init__(self, config: DigestConfig) -> None:
        self.config = config

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        # The first fire may be ``now`` itself; after a fire, strictly the next post.
        after = previous_fire_time if previous_fire_time is not None else now - timedelta(microseconds=1)
        return next_post(self.config, after)

    def __str__(self) -> str:
        return f"post[{self.config.post_time:%H:%M} {self.config.timezone} {self.config.cadence}]"


class _Runs:
    """The job runs in flight, so that a stop ends them itself: cancels each and waits until it
    has ended. apscheduler's own shutdown cancels a coroutine job too, but its executor logs the
    CancelledError as a job that raised, with a traceback, for what is only a clean stop (a
    fetch cut off mid-answer records nothing: the next start fetches it again)."""

    def __init__(self) -> None:
        self._running: dict[asyncio.Task[object], asyncio.Future[object]] = {}  # apscheduler's: ours

    def wrap(self, job: Job) -> Job:
        @functools.wraps(job)  # apscheduler's log lines name the job as before
        async def run() -> object:
            outer = asyncio.current_task()
            assert outer is not None
            work = asyncio.ensure_future(job())
            self._running[outer] = work
            try:
                await asyncio.wait((work,))
            except asyncio.CancelledError:  # cancelled by apscheduler itself: the work goes too
                work.cancel()
                raise
            finally:
                del self._running[outer]
            return None if work.cancelled() else work.result()

        return run

    async def stop(self) -> None:
        """Cancel every run and wait until each has ended (its apscheduler task included)."""
        outers = list(self._running)
        for work in self._running.values():
            work.cancel()
        if outers:
            await asyncio.wait(outers)


def post_trigger(config: DigestConfig) -> PostTrigger:
    return PostTrigger(config)


def job_id(guild_id: int, channel_id: int) -> str:
    return f"post:{guild_id}:{channel_id}"


class DigestScheduler:
    def __init__(self, *, post_due: Job, tick: timedelta = TICK) -> None:
        self._runs = _Runs()
        self._post_due = self._runs.wrap(post_due)
        self._scheduler = AsyncIOScheduler(job_defaults={"coalesce": True, "max_instances": 1})
        self._tick = tick

    def start(self, configs: list[DigestConfig]) -> None:
        """Start within the running event loop (``setup_hook``/``cog_load``)."""
        self._scheduler.add_job(
            self._post_due, IntervalTrigger(seconds=self._tick.total_seconds()), id="tick"
        )
        for config in configs:
            # Nothing to move yet: removing first would scan apscheduler's pending jobs for each
            # server (quadratic: 10,000 servers held the event loop for a minute at start).
            self._add(config)
        self._scheduler.start()

    def upsert(self, config: DigestConfig) -> None:
        """Add or move a digest's job (no restart needed); a paused digest keeps none."""
        self.remove(config.guild_id, config.channel_id)
        self._add(config)

    def _add(self, config: DigestConfig) -> None:
        if not config.paused:
            self._scheduler.add_job(
                self._post_due, post_trigger(config), id=job_id(config.guild_id, config.channel_id)
            )

    def remove(self, guild_id: int, channel_id: int) -> None:
        with contextlib.suppress(JobLookupError):  # no such job: nothing to remove
            self._scheduler.remove_job(job_id(guild_id, channel_id))

    def next_runs(self) -> dict[str, datetime]:
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs() if job.next_run_time}

    async def stop(self) -> None:
        """No more runs; a post in flight is cancelled (its ledger claim is resumed later)."""
        if self._scheduler.running:
            self._scheduler.pause()
            await self._runs.stop()
            self._scheduler.shutdown(wait=False)


class SourceSchedule:
    """The bot-wide fetch job: first at start, then every ``check``; the job itself decides (from
    the fetch log and the schedule's lease) whether anything is due and whether this process runs it."""

    def __init__(self, run_due: Job, *, check: timedelta) -> None:
        self._runs = _Runs()
        self._run_due = self._runs.wrap(run_due)
        self._check = check
        self._scheduler = AsyncIOScheduler(job_defaults={"coalesce": True, "max_instances": 1})

    def start(self) -> None:
        """Start within the running event loop; the first check runs at once."""
        self._scheduler.add_job(
            self._run_due,
            IntervalTrigger(seconds=self._check.total_seconds()),
            id="sources",
            next_run_time=datetime.now(UTC),
        )
        self._scheduler.start()

    def run_now(self) -> None:
        """Check at once (as a run of the job: a stop cancels it like any other)."""
        self._scheduler.modify_job("sources", next_run_time=datetime.now(UTC))

    def next_check(self) -> datetime | None:
        job = self._scheduler.get_job("sources")
        return job.next_run_time if job else None

    async def stop(self) -> None:
        """No more checks; a fetch in flight is cancelled (nothing of it is recorded as fetched)."""
        if self._scheduler.running:
            self._scheduler.pause()
            await self._runs.stop()
            self._scheduler.shutdown(wait=False)
