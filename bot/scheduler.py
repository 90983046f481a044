"""When things run: the only module that knows apscheduler.

One cron job per server at its local posting time (apscheduler's CronTrigger is DST-correct), a
fetch job ahead of every posting time, and a minute tick that catches up whatever is due but not
posted (a restart, a transient failure). Every job calls an idempotent service function, so
overlapping triggers cannot post twice: the ledger decides, not the scheduler.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.domain.schedule import DigestConfig

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]
FETCH_LEAD = timedelta(minutes=20)
TICK = timedelta(minutes=1)


def post_trigger(config: DigestConfig) -> CronTrigger:
    return CronTrigger(
        hour=config.post_time.hour,
        minute=config.post_time.minute,
        day_of_week="mon-fri" if config.weekdays_only else "*",
        timezone=config.timezone,
    )


def fetch_trigger(config: DigestConfig, lead: timedelta = FETCH_LEAD) -> CronTrigger:
    at = datetime.combine(datetime(2000, 1, 3).date(), config.post_time) - lead
    return CronTrigger(hour=at.hour, minute=at.minute, timezone=config.timezone)


class DigestScheduler:
    def __init__(self, *, post_due: Job, fetch: Job, tick: timedelta = TICK) -> None:
        self._post_due = post_due
        self._fetch = fetch
        self._scheduler = AsyncIOScheduler(job_defaults={"coalesce": True, "max_instances": 1})
        self._tick = tick

    def start(self, configs: list[DigestConfig]) -> None:
        """Start within the running event loop (``setup_hook``/``cog_load``)."""
        self._scheduler.add_job(
            self._post_due, IntervalTrigger(seconds=self._tick.total_seconds()), id="tick"
        )
        for config in configs:
            self.upsert(config)
        self._scheduler.start()

    def upsert(self, config: DigestConfig) -> None:
        """Add or move a server's jobs (no restart needed); a paused server keeps none."""
        self.remove(config.guild_id)
        if config.paused:
            return
        self._scheduler.add_job(self._post_due, post_trigger(config), id=f"post:{config.guild_id}")
        self._scheduler.add_job(self._fetch, fetch_trigger(config), id=f"fetch:{config.guild_id}")

    def remove(self, guild_id: int) -> None:
        for job_id in (f"post:{guild_id}", f"fetch:{guild_id}"):
            with contextlib.suppress(JobLookupError):  # no such job: nothing to remove
                self._scheduler.remove_job(job_id)

    def next_runs(self) -> dict[str, datetime]:
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs() if job.next_run_time}

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
