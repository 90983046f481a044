"""The rate budget, ranking windows and the rising rule (pure code)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.domain.momentum import (
    PERIOD_DAYS,
    Period,
    UpvoteHistory,
    parse_period,
    rank_rising,
    recent_gain,
    window,
)
from bot.domain.rate_budget import RateBudget
from bot.errors import InvalidInput

NOW = datetime(2026, 1, 7, 20, tzinfo=UTC)
CUTOFF = datetime(2026, 1, 6, 20, tzinfo=UTC)


@given(
    calls=st.integers(1, 20),
    per=st.floats(1.0, 600.0),
    arrivals=st.lists(st.floats(0.0, 2000.0), max_size=80),
    pauses=st.lists(st.tuples(st.integers(0, 79), st.floats(0.0, 120.0)), max_size=5),
)
def test_calls_that_wait_as_told_never_exceed_the_budget(
    calls: int, per: float, arrivals: list[float], pauses: list[tuple[int, float]]
) -> None:
    budget = RateBudget(calls, per)
    made: list[float] = []
    now = 0.0
    paused_until = 0.0
    pause_at = dict(pauses)
    for index, arrival in enumerate(sorted(arrivals)):
        now = max(now, arrival)
        while (wait := budget.wait(now)) > 0:  # as the HTTP client does
            now += wait
        assert now >= paused_until
        budget.spend(now)
        made.append(now)
        if index in pause_at:  # the source said 429
            budget.pause(now, pause_at[index])
            paused_until = max(paused_until, now + pause_at[index])
    for start in made:
        assert sum(1 for t in made if start <= t < start + per) <= calls


def test_the_hugging_face_budget_is_500_per_five_minutes() -> None:
    budget = RateBudget()
    for _ in range(500):
        assert budget.wait(10.0) == 0
        budget.spend(10.0)
    assert budget.wait(10.0) == pytest.approx(300.0)
    assert budget.wait(310.0) == 0


def test_periods_parse_and_name_their_windows() -> None:
    assert parse_period("week") == (Period.WEEK, None)
    assert parse_period(" Month ") == (Period.MONTH, None)
    assert parse_period("day") == (Period.DAY, None)
    assert parse_period("day:2026-01-04") == (Period.DAY, date(2026, 1, 4))
    assert parse_period("2026-01-04") == (Period.DAY, date(2026, 1, 4))
    assert parse_period("week:2026-01-07") == (Period.WEEK, date(2026, 1, 7))
    assert window(Period.WEEK, date(2026, 1, 7)).describe() == "2026-01-01 to 2026-01-07"
    assert window(Period.MONTH, date(2026, 1, 30)).start == date(2026, 1, 1)
    assert window(Period.DAY, date(2026, 1, 4)).describe() == "2026-01-04"
    for bad in ("fortnight", "day:yesterday", "2026-13-01", "", "year:2026-01-01", ":"):
        with pytest.raises(InvalidInput):
            parse_period(bad)


@given(period=st.sampled_from(Period), anchor=st.dates(max_value=date(1, 3, 1)) | st.dates())
@example(Period.MONTH, date(1, 1, 5))
def test_any_date_typed_makes_a_window_ending_there(period: Period, anchor: date) -> None:
    """`/papers top period:month:0001-01-05` and `paperbot top --month --until 0001-01-05` were an
    OverflowError (an apology with an error reference; a traceback): the window starts no earlier
    than the first date there is."""
    span = window(period, anchor)
    assert span.end == anchor and date.min <= span.start <= anchor
    assert (anchor - span.start).days == min(PERIOD_DAYS[period] - 1, (anchor - date.min).days)


def history(first_listed: date, latest: int | None, before: int | None, after: int | None) -> UpvoteHistory:
    return UpvoteHistory(1, first_listed, latest, before, after)


def test_the_recent_gain_rule() -> None:
    # A snapshot at or before the cutoff is the baseline.
    assert recent_gain(history(date(2026, 1, 4), 80, 60, 70), CUTOFF) == 20
    # None that old, but listed within the day: every vote is recent.
    assert recent_gain(history(date(2026, 1, 7), 30, None, 5), CUTOFF) == 30
    # None that old and listed earlier: only what was gained since paperbot first saw it.
    assert recent_gain(history(date(2026, 1, 2), 500, None, 480), CUTOFF) == 20
    # Counts that went down (HF removed votes) are no gain; no counts at all, none either.
    assert recent_gain(history(date(2026, 1, 4), 50, 60, 55), CUTOFF) == 0
    assert recent_gain(history(date(2026, 1, 4), None, None, None), CUTOFF) == 0


def test_rising_divides_the_gain_by_age_in_days() -> None:
    ranked = rank_rising(
        [
            UpvoteHistory(1, date(2026, 1, 3), 160, 100, 110),  # +60 over 5 days: 12
            UpvoteHistory(2, date(2026, 1, 7), 30, None, 30),  # +30 on day 1: 30
            UpvoteHistory(3, date(2026, 1, 6), 40, 10, 20),  # +30 over 2 days: 15
            UpvoteHistory(4, date(2026, 1, 6), 10, 10, None),  # nothing gained: absent
        ],
        NOW,
        limit=10,
    )
    assert [(r.pk, r.gain, r.score) for r in ranked] == [(2, 30, 30.0), (3, 30, 15.0), (1, 60, 12.0)]
