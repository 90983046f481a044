"""A weekly post's title names the weeks whose lists it covers, never the week it is posted in."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.digest import DigestPlan, parse_part
from bot.domain.models import Paper, Source
from bot.domain.weekly import WeeklyEntry, covered_weeks, plan_weekly, week_lists


def test_the_trials_preview_names_week_47_for_the_lists_of_16_to_22_november() -> None:
    days = tuple(date(2026, 11, 16) + timedelta(days=n) for n in range(7))
    plan = plan_weekly(date(2026, 11, 23), days, [], 0)
    header = plan.messages[0].embeds[0]
    assert header.title == "📚 Papers of the week · 2026 week 47"
    assert "The lists of Monday 16 November – Sunday 22 November 2026." in header.description
    assert header.footer == "digest · 2026 week 47"  # the footer too, not the week 48 it is posted in


@given(st.dates(min_value=date(2000, 1, 3), max_value=date(2090, 12, 31)), st.integers(0, 23))
def test_a_monday_post_names_the_iso_week_before_it(day: date, hour: int) -> None:
    monday = day - timedelta(days=day.weekday())
    days = week_lists(datetime.combine(monday, time(hour), tzinfo=UTC))
    covered = (monday - timedelta(days=7)).isocalendar()
    assert covered_weeks(days) == f"{covered.year} week {covered.week}"
    assert all(d.isocalendar().week == covered.week for d in days)


@given(st.dates(min_value=date(2000, 1, 3), max_value=date(2090, 12, 31)))
def test_a_missed_week_folded_in_names_both_weeks(day: date) -> None:
    monday = day - timedelta(days=day.weekday())
    days = week_lists(datetime.combine(monday, time(9), tzinfo=UTC), last_covered=monday - timedelta(days=22))
    first, last = days[0].isocalendar(), days[-1].isocalendar()
    assert len(days) == 14
    label = covered_weeks(days)
    assert f"week {first.week}" in label or f"weeks {first.week}–{last.week}" in label
    assert str(last.week) in label


def test_a_post_on_another_weekday_names_its_dates() -> None:
    wednesday = datetime(2026, 11, 25, 9, tzinfo=UTC)
    assert covered_weeks(week_lists(wednesday)) == "18 November – 24 November 2026"


def test_a_resume_reads_each_part_by_the_footer_its_frozen_plan_was_sent_with() -> None:
    """Exactly-once does not change with the footer: a resume looks for the frozen plan's own
    marker, so parts sent by this paperbot (the covered week) and by one before it (the ledger's
    week, ``digest 2026-W48``) are both found, each as its part."""
    days = tuple(date(2026, 11, 16) + timedelta(days=n) for n in range(7))
    long = "word " * 60
    papers = [
        Paper(
            f"Paper {n} {long}",
            "An abstract.",
            Source.HF_API,
            arxiv_id=f"2611.{n:05d}",
            authors=("A. Author",) * 40,
        )
        for n in range(1, 41)
    ]
    chosen = [WeeklyEntry(n, paper, n) for n, paper in enumerate(papers, 1)]
    plan = plan_weekly(date(2026, 11, 23), days, chosen, len(chosen))
    assert plan.parts > 1 and plan.marker == "digest · 2026 week 47"
    footers = [message.embeds[0].footer or "" for message in plan.messages]
    assert [parse_part(footer, plan.marker) for footer in footers] == list(range(1, plan.parts + 1))

    before = plan.to_json().replace("digest · 2026 week 47", "digest 2026-W48")  # frozen by an older paperbot
    frozen = DigestPlan.from_json(before)
    assert frozen.marker == "digest 2026-W48"
    assert [parse_part(m.embeds[0].footer or "", frozen.marker) for m in frozen.messages] == list(
        range(1, plan.parts + 1)
    )
