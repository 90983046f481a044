"""When a digest is due: pure functions of its settings and the current instant.

A server may have several digests, one per channel; each is scheduled on its own, so whether a
digest is due depends only on its (server, channel) settings and the instant. A daily digest's
period is its local day; a weekly digest's is the ISO week (keyed by the week's Monday), posted on
the chosen weekday. ``post_day`` throughout means the period's first day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import InvalidInput

_TIME = re.compile(r"(?P<hour>\d{1,2})[:.h](?P<minute>\d{2})")


class ListMode(StrEnum):
    """Which lists a post covers (see bot.domain.coverage)."""

    COMPLETE = "complete"  # the complete days since the last covered day (default)
    SO_FAR = "so-far"  # up to today's list as it stands


class Cadence(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How long after its post time a missed weekly post still goes out: until just before the next
# week's one. A bot that was down on Monday posts the week's digest when it is back that week.
WEEKLY_GRACE = timedelta(days=6, hours=23)


@dataclass(frozen=True, slots=True)
class DigestConfig:
    guild_id: int
    channel_id: int
    post_time: time
    timezone: str
    max_papers: int = 10
    weekdays_only: bool = False
    thread: bool = False
    source: str = "hf-api"
    paused: bool = False
    pause_reason: str | None = None
    list_mode: ListMode = ListMode.COMPLETE
    topic: str | None = None  # a follow-style query, canonical (None: every paper)
    cadence: Cadence = Cadence.DAILY
    weekday: int = 0  # weekly: the day it posts (0 = Monday)
    # When these settings were made (/digest setup): catch-up is for downtime, so a post whose time
    # came before it is never sent late; a new or edited digest's first post is its next occurrence.
    # None: set up before this was kept (no limit).
    schedule_from: datetime | None = None

    @property
    def key(self) -> tuple[int, int]:
        """What identifies a digest: its server and channel."""
        return (self.guild_id, self.channel_id)

    @property
    def ledger(self) -> LedgerKey:
        return LedgerKey(self.guild_id, self.channel_id, self.cadence)


@dataclass(frozen=True, slots=True)
class LedgerKey:
    """Whose posts a ledger row is about: a channel's daily and weekly posts are kept apart (a
    digest switched from one to the other on a Monday still posts both once)."""

    guild_id: int
    channel_id: int
    cadence: Cadence = Cadence.DAILY


def parse_weekday(text: str) -> int:
    """``mon`` .. ``sun`` (or the full English name, any case) as 0..6."""
    cleaned = text.strip().lower()[:3]
    if cleaned in WEEKDAYS:
        return WEEKDAYS.index(cleaned)
    raise InvalidInput(f"“{text[:20]}” is not a weekday: use one of {', '.join(WEEKDAYS)}.")


def parse_cadence(text: str) -> Cadence:
    try:
        return Cadence(text.strip().lower())
    except ValueError:
        raise InvalidInput("cadence must be daily or weekly.") from None


def parse_post_time(text: str) -> time:
    """``HH:MM`` in 24-hour time (``9:05``, ``09:05``, ``21h30`` also accepted)."""
    match = _TIME.fullmatch(text.strip())
    if match:
        hour, minute = int(match["hour"]), int(match["minute"])
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise InvalidInput(f"“{text}” is not a time of day: use 24-hour HH:MM, for example 09:00 or 17:30.")


def parse_timezone(name: str) -> str:
    """A valid IANA time zone name (case-insensitive), else InvalidInput with a hint."""
    cleaned = name.strip()
    try:
        ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError):
        lowered = cleaned.lower()
        for known in available_timezones():
            if known.lower() == lowered:
                return known
        raise InvalidInput(
            f"“{name}” is not a time zone: pick one from the list, e.g. Europe/Berlin or America/New_York."
        ) from None
    return cleaned


def timezone_choices(typed: str, limit: int = 25) -> list[str]:
    """IANA names for autocomplete: those containing what was typed, shortest first."""
    needle = typed.strip().lower().replace(" ", "_")
    names = sorted(available_timezones())
    if not needle:
        preferred = [
            "UTC",
            "Europe/London",
            "Europe/Berlin",
            "America/New_York",
            "America/Los_Angeles",
            "Asia/Tokyo",
        ]
        return preferred[:limit]
    found = [n for n in names if needle in n.lower()]
    found.sort(
        key=lambda n: (not n.lower().startswith(needle), needle not in n.lower().rsplit("/", 1)[-1], len(n))
    )
    return found[:limit]


def local_date(now: datetime, timezone: str) -> date:
    """The calendar day it is at ``now`` in ``timezone``."""
    return now.astimezone(ZoneInfo(timezone)).date()


def wall_clock(day: date, at: time, timezone: str) -> datetime:
    """The instant ``day`` at ``at`` on the clocks of ``timezone`` (DST-correct)."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(timezone))


def period_of(config: DigestConfig, local_day: date) -> date:
    """The period ``local_day`` falls in, by its first day: the day itself, or its ISO week's Monday."""
    if config.cadence is Cadence.WEEKLY:
        return local_day - timedelta(days=local_day.weekday())
    return local_day


def post_instant(config: DigestConfig, post_day: date) -> datetime:
    """The instant of the post for the period starting ``post_day``: a wall-clock time in the
    server's zone (for a weekly digest, on its weekday of that week).

    A time the fall-back hour repeats (01:30 in New York on the first Sunday of November) is the
    first of its two instants, except for settings made between them: the wall clock has yet to
    show it again, and a new digest's first post is the next occurrence, not tomorrow's."""
    day = post_day + timedelta(days=config.weekday) if config.cadence is Cadence.WEEKLY else post_day
    first = wall_clock(day, config.post_time, config.timezone)
    made = config.schedule_from
    if made is not None and first < made:
        second = first.replace(fold=1)
        if second.utcoffset() != first.utcoffset() and second.astimezone(UTC) >= made:
            return second
    return first


def posts_on(config: DigestConfig, local_day: date) -> bool:
    if config.cadence is Cadence.WEEKLY:
        return local_day.weekday() == 0  # one post per week, keyed by its Monday
    return not (config.weekdays_only and local_day.weekday() >= 5)


def catch_up_window(config: DigestConfig, grace: timedelta) -> timedelta:
    """How long after its time a missed post still goes out (a weekly one: the rest of its week)."""
    return WEEKLY_GRACE if config.cadence is Cadence.WEEKLY else grace


def due_day(config: DigestConfig, now: datetime, grace: timedelta) -> date | None:
    """The period whose post should go out at ``now`` (by its first day): its time has come, after
    the settings were made, and the catch-up window (for downtime) has not passed. None when
    nothing is due."""
    if config.paused:
        return None
    window = catch_up_window(config, grace)
    current = period_of(config, local_date(now, config.timezone))
    step = timedelta(days=7 if config.cadence is Cadence.WEEKLY else 1)
    for day in (current, current - step):
        # The window is elapsed time, so it is added in UTC: added to a local wall-clock time it
        # would be an hour short on a spring-forward day whose post time falls in the gap (02:30
        # Europe/Berlin is 01:30 UTC, but 02:30 + 1 h on the wall is 03:30 CEST, also 01:30 UTC).
        at = post_instant(config, day).astimezone(UTC)
        if posts_on(config, day) and at <= now <= at + window and scheduled(config, at):
            return day
    return None


def scheduled(config: DigestConfig, at: datetime) -> bool:
    """Whether a post time belongs to these settings: it comes when or after they were made."""
    return config.schedule_from is None or at >= config.schedule_from


def next_post(config: DigestConfig, now: datetime) -> datetime:
    """The next scheduled post after ``now`` (ignoring the ledger; see DigestService.status)."""
    day = period_of(config, local_date(now, config.timezone))
    for offset in range(0, 15):
        candidate = day + timedelta(days=offset)
        at = post_instant(config, candidate)
        if posts_on(config, candidate) and at > now:
            return at
    raise AssertionError("a post happens at least once a week")


def missed_days(config: DigestConfig, *, since: datetime, now: datetime, grace: timedelta) -> list[date]:
    """Periods whose post time came after ``since`` and whose catch-up window has closed by
    ``now``: what ``due_day`` will never return again (posted or not: the ledger tells)."""
    window = catch_up_window(config, grace)
    step = timedelta(days=7 if config.cadence is Cadence.WEEKLY else 1)
    day = period_of(config, local_date(since, config.timezone))
    last = period_of(config, local_date(now, config.timezone))
    missed = []
    while day <= last:
        at = post_instant(config, day).astimezone(UTC)
        if posts_on(config, day) and since <= at and at + window < now and scheduled(config, at):
            missed.append(day)
        day += step
    return missed
