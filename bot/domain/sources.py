"""When each live source is fetched next: pure functions of its policy and its fetch log.

The whole bot has one source schedule, independent of digests. Hugging Face is fetched every
``interval`` after the last successful fetch (so a restart fetches at once only when that is
old); arXiv after each of its announcements (20:00 US Eastern, Sunday to Thursday). A failed
fetch is retried with a growing pause, never sooner than the schedule allows a success.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

RETRY_FIRST = timedelta(minutes=5)
ARXIV_ZONE = ZoneInfo("America/New_York")
# arXiv announces new submissions at 20:00 Eastern, Sunday to Thursday; its feeds follow shortly.
ARXIV_ANNOUNCED = time(20, 30)
ARXIV_DAYS = frozenset({6, 0, 1, 2, 3})  # Sunday..Thursday (Monday is 0)


@dataclass(frozen=True, slots=True)
class SourcePolicy:
    name: str
    interval: timedelta
    announced: bool = False  # fetched after each announcement instead of every ``interval``


@dataclass(frozen=True, slots=True)
class FetchState:
    """What the fetch log says about one source."""

    last_ok: datetime | None = None
    last_attempt: datetime | None = None
    failures: int = 0  # failed attempts since the last success


def retry_pause(failures: int, ceiling: timedelta) -> timedelta:
    """Backoff after ``failures`` failed attempts in a row: 5, 10, 20 ... minutes, at most ``ceiling``."""
    if failures <= 0:
        return timedelta(0)
    pause: timedelta = RETRY_FIRST * 2 ** min(failures - 1, 16)
    return min(ceiling, pause)


def next_announcement(after: datetime) -> datetime:
    """The first arXiv announcement (plus the feed's delay) strictly after ``after``."""
    local = after.astimezone(ARXIV_ZONE)
    for offset in range(0, 8):
        day: date = local.date() + timedelta(days=offset)
        at = datetime.combine(day, ARXIV_ANNOUNCED, tzinfo=ARXIV_ZONE)
        if day.weekday() in ARXIV_DAYS and at > after:
            return at
    raise AssertionError("arXiv announces several times a week")


def next_fetch(policy: SourcePolicy, state: FetchState, now: datetime) -> datetime:
    """When ``policy``'s source is due next; at or before ``now`` means due now.

    Never fetched: now. Otherwise ``interval`` after the last success (or the first announcement
    after it), and after failures not before the backoff pause since the last attempt.
    """
    if state.last_ok is None:
        due = now
    elif policy.announced:
        due = next_announcement(state.last_ok)
    else:
        due = state.last_ok + policy.interval
    if state.failures and state.last_attempt is not None:
        ceiling = policy.interval if not policy.announced else timedelta(hours=2)
        due = max(due, state.last_attempt + retry_pause(state.failures, ceiling))
    return due


def recent_days(now: datetime, days: int = 2) -> list[date]:
    """The lists a refresh covers: the last ``days`` UTC days, oldest first (HF adds to both)."""
    today = now.astimezone(ZoneInfo("UTC")).date()
    return [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
