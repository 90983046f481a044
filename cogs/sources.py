"""The bot-wide source schedule (no commands): fetch the live sources whether or not any server
has a digest, and wake follow alerts when a fetch brings new papers."""

from __future__ import annotations

import logging
from datetime import timedelta

from discord.ext import commands, tasks

from bot.client import PaperBot
from bot.repeating_failure import RepeatingFailures
from bot.scheduler import SourceSchedule

log = logging.getLogger(__name__)


class Sources(commands.Cog):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot
        self.schedule = SourceSchedule(
            self.run_due, check=timedelta(seconds=bot.settings.sources.check_seconds)
        )
        self._started = False
        self._holding: bool | None = None  # whether this process runs the schedule (None: unknown yet)
        self._failing = RepeatingFailures(log)
        # Renewed three times per lease, apart from the fetches, so a long fetch never lets it lapse
        # and a dead holder's schedule is taken over within one lease and a third.
        self.keep_lease.change_interval(seconds=bot.settings.sources.lease_seconds / 3)

    async def cog_load(self) -> None:
        if self.bot.settings.digest.scheduler and self.bot.services.fetcher is not None:
            self.schedule.start()
            self.keep_lease.start()
            log.info("source schedule started: %s", ", ".join(self.bot.services.fetcher.enabled))

    async def cog_unload(self) -> None:
        self.keep_lease.cancel()
        await self.schedule.stop()
        if self.bot.services.fetcher is not None and self.bot.settings.digest.scheduler:
            await self.bot.services.fetcher.release_schedule()

    @tasks.loop(seconds=15)
    async def keep_lease(self) -> None:
        fetcher = self.bot.services.fetcher
        if fetcher is None:
            return
        try:
            held = await fetcher.hold_schedule()
        except Exception as exc:
            self._failing.failed("renewing the source schedule's lease", exc, key="lease")
            return
        self._failing.succeeded("renewing the source schedule's lease", key="lease")
        if held and self._holding is False:
            # Taken over from a process that stopped renewing: run what is due now, not at the next check.
            self.schedule.run_now()
        self._holding = held

    async def run_due(self) -> int:
        """The schedule's job; returns how many new papers it brought."""
        fetcher = self.bot.services.fetcher
        if fetcher is None:
            return 0
        first = not self._started
        self._started = True
        try:
            due = [name for name, at in (await fetcher.schedule()).items() if at <= fetcher.now()]
            counts = await fetcher.run_scheduled()
        except Exception as exc:
            self._failing.failed("the source schedule run", exc, key="run")
            return 0
        self._failing.succeeded("the source schedule run", key="run")
        if counts is None:
            if first:
                log.info("source schedule at start: another process runs it (standing by)")
            return 0
        if first:
            if due:
                log.info("source schedule at start: fetched %s", ", ".join(due))
            else:
                upcoming = await fetcher.schedule()
                log.info(
                    "source schedule at start: nothing due (%s)",
                    ", ".join(f"{name} next at {at:%Y-%m-%d %H:%M} UTC" for name, at in upcoming.items()),
                )
        if counts.new or counts.updated:
            log.info("source schedule: %d new, %d updated papers", counts.new, counts.updated)
        if counts.new and self.bot.is_ready():
            self.bot.dispatch("papers_ingested")  # follow alerts go out now, not at the next poll
        return counts.new


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Sources(bot))
