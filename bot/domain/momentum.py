"""What "top" and "rising" mean: the ranking windows and the rising score. Pure, no I/O.

- **top** ranks the papers listed in a window of daily lists by their latest upvote count. The window
  ends at the newest list not after today (UTC), or at a date given (``week:DATE``): ``day`` is
  that one list (``day:DATE``), ``week`` the 7 days ending there, ``month`` the 30 days.
- **rising** ranks the papers listed in the last ``RISING_LIST_DAYS`` days by the upvotes they gained
  in the last 24 hours, divided by their age in days on the list (at least 1): a day-old paper
  that gained 30 outranks a five-day-old one that gained 60.
  The gain is the latest count minus the count at the last snapshot 24 hours ago or earlier. A
  paper with no snapshot that old started from 0 when it was first listed within those 24 hours
  (all its votes are recent), else from its first snapshot (votes before paperbot saw it are not
  counted as recent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.errors import InvalidInput

RISING_LIST_DAYS = 7  # also how far back the scheduled refresh re-fetches lists
RISING_HOURS = 24


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


PERIOD_DAYS = {Period.DAY: 1, Period.WEEK: 7, Period.MONTH: 30}


@dataclass(frozen=True, slots=True)
class Window:
    """The daily lists a ranking covers, both ends included."""

    period: Period
    start: date
    end: date

    def describe(self) -> str:
        if self.start == self.end:
            return self.end.isoformat()
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def parse_period(text: str) -> tuple[Period, date | None]:
    """``week``, ``month``, ``day`` (ending at the newest list), the same ending at a date
    (``week:YYYY-MM-DD``), or a bare date (that day's list)."""
    value = text.strip().lower()
    name, colon, day_text = value.partition(":")
    if not colon and name not in (Period.WEEK, Period.MONTH, Period.DAY):
        name, day_text = (Period.DAY, name) if name else ("", "")
    elif colon and not day_text.strip():
        name = ""  # "week:" names no date
    try:
        period = Period(name.strip())
        return period, date.fromisoformat(day_text.strip()) if day_text else None
    except ValueError:
        raise InvalidInput(
            f"“{text[:40]}” is not a period: use week, month, day, or one of them ending at a date "
            "(day:YYYY-MM-DD, week:YYYY-MM-DD)."
        ) from None


def window(period: Period, anchor: date) -> Window:
    """The ``period`` of lists ending at ``anchor`` (the newest list, or the day asked for); a
    typed date in the first days of year 1 starts the window there (no date before it exists)."""
    back = min(PERIOD_DAYS[period] - 1, (anchor - date.min).days)
    return Window(period, anchor - timedelta(days=back), anchor)


@dataclass(frozen=True, slots=True)
class UpvoteHistory:
    """A paper's upvotes as the snapshots saw them around the rising cutoff (now - 24 h)."""

    pk: int
    first_listed: date | None
    latest: int | None  # the newest snapshot at or before now
    before_cutoff: int | None  # the newest snapshot at or before the cutoff
    first_after_cutoff: int | None  # the oldest snapshot after the cutoff


def recent_gain(history: UpvoteHistory, cutoff: datetime) -> int:
    """Upvotes gained since ``cutoff`` (see the module docstring for the baseline rule)."""
    if history.latest is None:
        return 0
    if history.before_cutoff is not None:
        baseline = history.before_cutoff
    elif history.first_listed is not None and history.first_listed >= cutoff.date():
        baseline = 0
    else:
        baseline = history.first_after_cutoff if history.first_after_cutoff is not None else history.latest
    return max(0, history.latest - baseline)


def age_days(first_listed: date | None, today: date) -> int:
    """Days on the list, counting the listing day as the first (so at least 1)."""
    if first_listed is None:
        return 1
    return max(1, (today - first_listed).days + 1)


def rising_score(gain: int, age: int) -> float:
    return gain / max(1, age)


@dataclass(frozen=True, slots=True)
class Rising:
    pk: int
    gain: int
    score: float


def rank_rising(histories: list[UpvoteHistory], now: datetime, *, limit: int) -> list[Rising]:
    """Papers that gained upvotes in the last 24 h, best score first (ties: bigger gain, then newer)."""
    cutoff = now - timedelta(hours=RISING_HOURS)
    ranked = []
    for history in histories:
        gain = recent_gain(history, cutoff)
        if gain > 0:
            score = rising_score(gain, age_days(history.first_listed, now.date()))
            ranked.append(Rising(history.pk, gain, score))
    ranked.sort(key=lambda r: (-r.score, -r.gain, -r.pk))
    return ranked[:limit]
