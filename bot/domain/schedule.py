"""When a server's digest is due: pure functions of its settings and the current instant."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import InvalidInput

_TIME = re.compile(r"(?P<hour>\d{1,2})[:.h](?P<minute>\d{2})")


class ListMode(StrEnum):
    """Which lists a post covers (see bot.domain.coverage)."""

    COMPLETE = "complete"  # the complete days since the last covered day (default)
    SO_FAR = "so-far"  # up to today's list as it stands


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


def post_instant(config: DigestConfig, local_day: date) -> datetime:
    """The instant of the post for ``local_day``: a wall-clock time in the server's zone."""
    return wall_clock(local_day, config.post_time, config.timezone)


def posts_on(config: DigestConfig, local_day: date) -> bool:
    return not (config.weekdays_only and local_day.weekday() >= 5)


def due_day(config: DigestConfig, now: datetime, grace: timedelta) -> date | None:
    """The local day whose post should go out at ``now``: its time has come and the grace window
    (for catching up after downtime) has not passed. None when nothing is due."""
    if config.paused:
        return None
    local_today = local_date(now, config.timezone)
    for day in (local_today, local_today - timedelta(days=1)):
        at = post_instant(config, day)
        if posts_on(config, day) and at <= now <= at + grace:
            return day
    return None


def next_post(config: DigestConfig, now: datetime) -> datetime:
    """The next scheduled post after ``now`` (ignoring the ledger)."""
    day = local_date(now, config.timezone)
    for offset in range(0, 8):
        candidate = day + timedelta(days=offset)
        at = post_instant(config, candidate)
        if posts_on(config, candidate) and at > now:
            return at
    raise AssertionError("a post happens at least once a week")
