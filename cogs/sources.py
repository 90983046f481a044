"""The bot-wide source schedule (no commands): fetch the live sources whether or not any server
has a digest, and wake follow alerts when a fetch brings new papers."""

from __future__ import annotations

import logging
from datetime import timedelta

from discord.ext import commands

from bot.client import PaperBot
from bot.scheduler import SourceSchedule

log = logging.getLogger(__name__)


class Sources(commands.Cog):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot
        self.schedule = SourceSchedule(
            self.run_due, check=timedelta(seconds=bot.settings.sources.check_seconds)
        )
        self._started = False

    async def cog_load(self) -> None:
        if self.bot.settings.digest.scheduler and self.bot.services.fetcher is not None:
            self.schedule.start()
            log.info("source schedule started: %s", ", ".join(self.bot.services.fetcher.enabled))

    async def cog_unload(self) -> None:
        self.schedule.shutdown()
        if self.bot.services.fetcher is not None and self.bot.settings.digest.scheduler:
            await self.bot.services.fetcher.release_schedule()

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
        except Exception:
            log.exception("source schedule run failed; will try at the next check")
            return 0
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
