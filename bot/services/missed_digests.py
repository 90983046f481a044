"""Digest periods that were not posted and will not be: recorded once, never skipped silently.

A running bot posts within its grace window, so a miss comes from downtime: each period whose
catch-up window closed with no ledger row is recorded in the ledger as skipped, with why, and a
notice opened for the admin (bot/services/digest_notices.py delivers it). The ledger's primary key
decides between the miss and a late post claimed at the same moment by another process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from bot.domain.schedule import Cadence, DigestConfig, missed_days, post_instant
from bot.storage.connection import Store
from bot.storage.digest_notices import DigestNoticeRepository

log = logging.getLogger(__name__)

# How many missed days the one warning of a catch-up names (the rest are logged at INFO).
NAMED_IN_WARNING = 3

# How far back a missed period is looked for, and how often (at the start, then now and then).
LOOK_BACK = timedelta(days=7)
CHECK_EVERY = timedelta(minutes=10)


def offline_reason(config: DigestConfig, post_day: date, window: timedelta) -> str:
    at = post_instant(config, post_day)
    late = "that week" if config.cadence is Cadence.WEEKLY else f"within {_duration(window)}"
    return (
        f"paperbot was not running at its time ({at:%H:%M} {config.timezone}) or {late} after it, "
        "and a digest that late is not posted"
    )


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    return f"{hours} hour{'s' if hours != 1 else ''}"


class MissedDigests:
    """Records each period that was not posted and will not be (its catch-up window closed)."""

    def __init__(
        self,
        database: Store,
        notices: DigestNoticeRepository,
        *,
        grace: timedelta,
        window: Callable[[DigestConfig], timedelta],
    ) -> None:
        self.database = database
        self._notices = notices
        self._grace = grace
        self._window = window
        self._checked: datetime | None = None

    async def record(self, configs: Sequence[DigestConfig], now: datetime) -> int:
        """Record the misses of ``configs`` (not paused) once per CHECK_EVERY; returns how many
        this call recorded (another process recording one first counts there)."""
        if self._checked is not None and now - self._checked < CHECK_EVERY:
            return 0
        self._checked = now  # a pass that fails (a full disk) is tried again after CHECK_EVERY too
        since = now - LOOK_BACK
        ledger = await self._notices.ledger_days(since.date() - timedelta(days=7))
        changed = await self._notices.changed_at()
        recorded: list[tuple[DigestConfig, date]] = []
        for config in configs:
            if config.paused:
                continue  # paused: the admin paused it, or was told why when it paused
            start = max(since, changed.get(config.key, since))
            for day in missed_days(config, since=start, now=now, grace=self._grace):
                key = config.ledger
                if (key.guild_id, key.channel_id, key.cadence.value, day) in ledger:
                    continue
                reason = offline_reason(config, day, self._window(config))
                async with self.database.transaction():
                    if not await self._notices.record_missed(key, day, reason, now):
                        continue  # posted late, or recorded by another process: its row decides
                    await self._notices.open_notice(key, day, reason, now)
                recorded.append((config, day))
                log.info(
                    "digest for guild %s channel %s on %s not posted: %s",
                    key.guild_id,
                    key.channel_id,
                    day,
                    reason,
                )
        if recorded:
            _warn_once(recorded)
        return len(recorded)


def _warn_once(recorded: Sequence[tuple[DigestConfig, date]]) -> None:
    """One warning for a whole catch-up: a week offline with 30 digests was 210 warning lines,
    burying anything else a self-hoster should see; each day is at INFO above."""
    digests = {config.ledger for config, _ in recorded}
    days = {day for _, day in recorded}
    named = ", ".join(
        f"guild {config.guild_id} channel {config.channel_id} on {day}"
        for config, day in recorded[:NAMED_IN_WARNING]
    )
    more = f" and {len(recorded) - NAMED_IN_WARNING} more" if len(recorded) > NAMED_IN_WARNING else ""
    log.warning(
        "%d digest posts not made (%d digests, %d days; paperbot was not running in their catch-up "
        "window): %s%s; their admins are told, /digest show lists them",
        len(recorded),
        len(digests),
        len(days),
        named,
        more,
    )
