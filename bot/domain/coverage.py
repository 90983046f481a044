"""What one digest post covers: which days' lists, which of their papers, and what the header says.

Hugging Face keeps adding papers to a date's list (and upvotes keep moving) for the whole of that
UTC day. So by default a post covers the *complete* days since the last day a post covered: for a
daily post, yesterday's list; on Monday with ``weekdays_only``, Friday to Sunday; after downtime,
every missed day (at most ``MAX_DAYS``, the most recent). ``so-far`` posts today's list as it stands
and says so; the papers added later come in the next post. Papers of all covered days are ranked
by upvotes, ``max_papers`` applies, and a paper already posted to the channel is never posted
again; the header counts what was left out ("top 20 of 143") so nothing is dropped silently.

Pure functions: the digest service feeds them the ledger and the stored lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.digest import (
    SOURCE_LABELS,
    DigestPlan,
    EmbedSpec,
    digest_marker,
    entry,
    pack_entries,
    pack_messages,
    paper_ref,
)
from bot.domain.layout import plural
from bot.domain.models import Paper
from bot.domain.schedule import ListMode
from bot.domain.topics import topic_line

MAX_DAYS = 7
UTC = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class Coverage:
    """The days one post covers (oldest first) and what it had to leave out."""

    days: tuple[date, ...]
    mode: ListMode
    skipped_before: date | None = None  # older missed days beyond MAX_DAYS (not covered)

    @property
    def last(self) -> date:
        return self.days[-1]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A paper listed on a covered day: ``key`` identifies it in the channel's posted record."""

    key: int
    paper: Paper
    day: date
    rank: int  # its place in that day's list


def source_day(instant: datetime) -> date:
    """The source's day at ``instant``: Hugging Face dates its lists in UTC."""
    return instant.astimezone(UTC).date()


def coverage(post_at: datetime, mode: ListMode, last_covered: date | None) -> Coverage:
    """The days the post at ``post_at`` covers, given the last day a previous post covered."""
    today = source_day(post_at)
    end = today if mode is ListMode.SO_FAR else today - timedelta(days=1)
    if last_covered is None:
        return Coverage((end,), mode)
    # so-far: the last covered day may have been posted before it was complete: cover it again
    # (what was posted is not repeated). complete: the day after it.
    start = last_covered if mode is ListMode.SO_FAR else last_covered + timedelta(days=1)
    if start > end:
        # Nothing new is complete yet (two posts on one UTC day): the newest complete day again,
        # so late additions still come, and nothing is posted twice.
        start = end
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    skipped = days[-MAX_DAYS - 1] if len(days) > MAX_DAYS else None
    return Coverage(tuple(days[-MAX_DAYS:]), mode, skipped)


def choose(candidates: Sequence[Candidate], posted: set[int], max_papers: int) -> tuple[list[Candidate], int]:
    """The papers of a post: not yet posted to the channel, each once, ranked by upvotes (then
    newer day, then list rank), at most ``max_papers``; and how many were eligible."""
    seen: dict[int, Candidate] = {}
    for candidate in candidates:
        if candidate.key in posted:
            continue
        kept = seen.get(candidate.key)
        if kept is None or candidate.day > kept.day:
            seen[candidate.key] = candidate  # listed on several days: counted once, its latest day
    eligible = sorted(
        seen.values(), key=lambda c: (-(c.paper.upvotes or 0), -c.day.toordinal(), c.rank, c.key)
    )
    return eligible[:max_papers], len(eligible)


def _day_name(day: date) -> str:
    return day.strftime("%A %d %B %Y")


def _days_phrase(days: Sequence[date]) -> str:
    names = [day.strftime("%A %d %B") for day in days]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def plan_post(
    post_day: date,
    cover: Coverage,
    chosen: Sequence[Candidate],
    eligible: int,
    *,
    source: str,
    listed_days: Sequence[date] = (),
    old_list: tuple[date, int] | None = None,
    topic: str | None = None,
) -> DigestPlan:
    """The messages of a post covering ``cover`` with the ``chosen`` papers (ranked) of
    ``eligible`` not yet posted. ``listed_days``: covered days that had a list. ``old_list``: a
    first post showing the newest stored list instead (its date and age in days). ``topic``: a
    topic digest's query, named in the header."""
    label = SOURCE_LABELS.get(source, source)
    shown = {c.day for c in chosen}
    lines = [f"{plural(len(chosen), 'paper')} from {label}"]
    if eligible > len(chosen):
        lines[0] += f" (top {len(chosen)} of {eligible})"
    if topic:
        lines.append(topic_line(topic))
    if old_list is not None:
        day, age = old_list
        title_days = f"{_day_name(day)}"
        lines.append(f"The newest list there is, from {_day_name(day)} ({plural(age, 'day')} old).")
    else:
        covered = list(listed_days) or list(cover.days)
        if len(cover.days) == 1:
            title_days = _day_name(cover.days[0])
        else:
            first, last = cover.days[0], cover.days[-1]
            title_days = f"{first:%A %d %B} – {_day_name(last)}"
        if len(cover.days) > 1:
            lines.append(f"The lists of {_days_phrase(covered)}.")
        if cover.mode is ListMode.SO_FAR:
            lines.append(f"{cover.last:%A}'s list so far: papers added later today come in the next post.")
        if cover.skipped_before is not None:
            lines.append(f"Lists up to {cover.skipped_before:%A %d %B} were missed while the bot was away.")
    if eligible > len(chosen) and shown:
        rest = sorted({old_list[0]} if old_list else set(listed_days) or set(shown))
        if len(rest) == 1:
            lines.append(f"The rest: `/papers today day:{rest[0].isoformat()}`.")
        else:
            dates = ", ".join(day.isoformat() for day in rest[:-1]) + f" or {rest[-1].isoformat()}"
            lines.append(f"The rest: `/papers today` with `day:` {dates}.")
    header = EmbedSpec(title=f"📚 Daily papers · {title_days}", description="\n".join(lines))
    papers = [c.paper for c in chosen]
    entries = (entry(rank, paper) for rank, paper in enumerate(papers, 1))
    # Keys: which papers each embed holds (the frozen plan); saves: the Save menu under each message.
    saves = [paper_ref(paper) for paper in papers]
    embeds = [header, *pack_entries(entries, keys=[paper.id for paper in papers], saves=saves)]
    messages = pack_messages(embeds, digest_marker(post_day))
    return DigestPlan(post_day, cover.last if old_list is None else old_list[0], messages, len(chosen))
