"""A weekly digest post: the week's most upvoted papers, counted as the momentum table has them now.

The week a post covers is the seven complete source (UTC) days before its scheduled time: for a
Monday post, Monday to Sunday of the ISO week before. Catch-up rules (the bot was down):

- later that week (up to 6 days 23 hours after its time), the post goes out once, covering the
  same seven days, ranked by the counts as they are when it goes out;
- a week whose post never went out (down longer than that) is not posted late: the next week's
  post covers its lists too (at most two weeks' worth) and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from bot.domain.coverage import source_day
from bot.domain.digest import (
    SOURCE_LABELS,
    DigestPlan,
    EmbedSpec,
    entry,
    pack_entries,
    pack_messages,
    paper_ref,
    weekly_marker,
)
from bot.domain.layout import plural
from bot.domain.models import Paper
from bot.domain.topics import topic_line

WEEK_DAYS = 7
MAX_WEEK_DAYS = 2 * WEEK_DAYS  # a missed week folds into the next post, no more


@dataclass(frozen=True, slots=True)
class WeeklyEntry:
    """A paper listed during the week with its newest upvote count; ``key`` is its store key."""

    key: int
    paper: Paper
    upvotes: int | None


def week_lists(post_at: datetime, last_covered: date | None = None) -> tuple[date, ...]:
    """The source days a weekly post at ``post_at`` covers (oldest first): the seven before it, and
    the lists since ``last_covered`` (the previous weekly post's last day) that a missed post left
    uncovered, up to ``MAX_WEEK_DAYS`` in all."""
    end = source_day(post_at) - timedelta(days=1)
    start = end - timedelta(days=WEEK_DAYS - 1)
    if last_covered is not None and last_covered < start - timedelta(days=1):
        start = max(last_covered + timedelta(days=1), end - timedelta(days=MAX_WEEK_DAYS - 1))
    return tuple(start + timedelta(days=n) for n in range((end - start).days + 1))


def covered_weeks(days: Sequence[date]) -> str:
    """The weeks whose lists a post covers, as its title names them: ``2026 week 47`` for the ISO
    week before a Monday post (not the week it is posted in, as the title used to say), ``2026
    weeks 46-47`` when a missed post's week is folded in, and the dates when the days straddle
    ISO weeks (a post on another weekday covers the seven days before it)."""
    first, last = days[0].isocalendar(), days[-1].isocalendar()
    whole = days[0].weekday() == 0 and days[-1].weekday() == 6
    if not whole:
        return f"{days[0]:%d %B} – {days[-1]:%d %B %Y}"
    if (first.year, first.week) == (last.year, last.week):
        return f"{last.year} week {last.week}"
    if first.year == last.year:
        return f"{last.year} weeks {first.week}–{last.week}"
    return f"{first.year} week {first.week} – {last.year} week {last.week}"


def plan_weekly(
    week_start: date,
    days: Sequence[date],
    chosen: Sequence[WeeklyEntry],
    eligible: int,
    *,
    topic: str | None = None,
    counted_at: datetime | None = None,
    note: str | None = None,
) -> DigestPlan:
    """The messages of the weekly post of the ISO week starting ``week_start``: the ``chosen``
    entries (ranked) of ``eligible`` papers, or a header with ``note`` only."""
    label = SOURCE_LABELS["hf-api"]
    lines = [f"{plural(len(chosen), 'paper')} from {label}, most upvoted first"]
    if eligible > len(chosen):
        lines[0] += f" (top {len(chosen)} of {eligible})"
    lines.append(f"The lists of {days[0]:%A %d %B} – {days[-1]:%A %d %B %Y}.")
    if len(days) > WEEK_DAYS:
        lines.append("Last week's post was missed while the bot was away: its lists are in this one.")
    if topic:
        lines.append(topic_line(topic))
    if counted_at is not None:
        lines.append(f"Upvotes as counted <t:{int(counted_at.timestamp())}:R>.")
    if note:
        lines.append(note)
    header = EmbedSpec(title=f"📚 Papers of the week · {covered_weeks(days)}", description="\n".join(lines))
    # The entries show the week's latest counts, not the count stored with the paper's first listing.
    papers = [replace(e.paper, upvotes=e.upvotes) if e.upvotes is not None else e.paper for e in chosen]
    entries = (entry(rank, paper) for rank, paper in enumerate(papers, 1))
    saves = [paper_ref(paper) for paper in papers]
    embeds = [header, *pack_entries(entries, keys=[p.id for p in papers], saves=saves)]
    messages = pack_messages(embeds, weekly_marker(covered_weeks(days)))
    return DigestPlan(week_start, days[-1] if chosen else None, messages, len(chosen))
