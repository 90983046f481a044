"""Re-dating a digest's ledger when its time zone changes, so "which local days were posted" stays true.

The ledger keys a daily post by its local day and a weekly one by its local ISO week (its Monday).
Those keys are dates on the old zone's calendar: after a change of zone a post made at 00:05 UTC on
28 November is keyed 2026-11-28, though on Los Angeles' calendar it went out on Friday 27 November.
Left so, the new schedule posts Friday a second time and never posts Saturday (its key is taken).

So each recent row moves by the number of days (or weeks) the change of zone shifts the instant it
stands for: the post's start for a post, its due time for a recorded miss. Under an unchanged zone
nothing moves (a late catch-up keeps the day it was for). Two rows landing on one period (two posts
within one new local day, from earlier edits or a /digest post-now) cannot share a key: the post
keeps it over a miss, the later over the earlier, and the other takes the nearest free period
before it, so every key stays unique and a period is never marked done by a row from another one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.schedule import Cadence


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    cadence: Cadence
    post_day: date  # its period's first day, on the old zone's calendar
    at: datetime  # the instant it stands for: a post's start, or a miss's due time
    posted: bool  # a post (made, being made, failed or with nothing to say); False: a recorded miss


def period_start(cadence: Cadence, local_day: date) -> date:
    return local_day - timedelta(days=local_day.weekday()) if cadence is Cadence.WEEKLY else local_day


def _step(cadence: Cadence) -> timedelta:
    return timedelta(days=7 if cadence is Cadence.WEEKLY else 1)


def shifted(entry: LedgerEntry, old_zone: str, new_zone: str) -> date:
    """The entry's period on the new zone's calendar: moved as far as the zones' calendars differ
    at its instant (so the same zone leaves it where it is)."""
    old = period_start(entry.cadence, entry.at.astimezone(ZoneInfo(old_zone)).date())
    new = period_start(entry.cadence, entry.at.astimezone(ZoneInfo(new_zone)).date())
    return entry.post_day + (new - old)


def redated(
    entries: Iterable[LedgerEntry], *, kept: Iterable[tuple[Cadence, date]], old_zone: str, new_zone: str
) -> dict[tuple[Cadence, date], date]:
    """Where each entry goes: (cadence, old key) -> new key, for the entries that move. ``kept``:
    keys of older rows that stay where they are (a moved row never lands on one)."""
    taken = set(kept)
    wanted = sorted(
        ((shifted(e, old_zone, new_zone), e) for e in entries),
        # Latest period first, and within one period the row that keeps it first: a post over a
        # miss, a later one over an earlier one.
        key=lambda pair: (pair[0], pair[1].posted, pair[1].at),
        reverse=True,
    )
    moves: dict[tuple[Cadence, date], date] = {}
    for target, entry in wanted:
        while (entry.cadence, target) in taken:
            target -= _step(entry.cadence)
        taken.add((entry.cadence, target))
        if target != entry.post_day:
            moves[(entry.cadence, entry.post_day)] = target
    return moves
