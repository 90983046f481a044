"""When each source is fetched next: the pure schedule behind the bot-wide fetch job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.sources import FetchState, SourcePolicy, next_announcement, next_fetch, recent_days

HF = SourcePolicy("hf", timedelta(hours=2))
ARXIV = SourcePolicy("arxiv", timedelta(hours=2), announced=True)
NOON = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)  # a Wednesday


def test_a_source_never_fetched_is_due_at_once() -> None:
    assert next_fetch(HF, FetchState(), NOON) == NOON
    assert next_fetch(ARXIV, FetchState(), NOON) == NOON


def test_hf_is_due_an_interval_after_the_last_success() -> None:
    fresh = FetchState(last_ok=NOON - timedelta(minutes=30), last_attempt=NOON - timedelta(minutes=30))
    assert next_fetch(HF, fresh, NOON) == NOON + timedelta(minutes=90)  # a restart now fetches nothing
    old = FetchState(last_ok=NOON - timedelta(hours=5), last_attempt=NOON - timedelta(hours=5))
    assert next_fetch(HF, old, NOON) <= NOON  # a restart now fetches at once


def test_failures_back_off_and_never_exceed_the_interval() -> None:
    last_ok = NOON - timedelta(hours=3)
    pauses = []
    for failures in (1, 2, 3, 4, 5, 9):
        state = FetchState(last_ok=last_ok, last_attempt=NOON, failures=failures)
        pauses.append(next_fetch(HF, state, NOON) - NOON)
    minutes = [p.total_seconds() / 60 for p in pauses]
    assert minutes == [5, 10, 20, 40, 80, 120]


def test_arxiv_is_fetched_after_each_announcement_not_on_weekends() -> None:
    friday_evening = datetime(2026, 1, 9, 23, 0, tzinfo=UTC)  # 18:00 in New York
    announced = next_announcement(friday_evening)
    # No announcement on Friday or Saturday evenings: the next is Sunday 20:30 Eastern.
    assert announced.astimezone(UTC) == datetime(2026, 1, 12, 1, 30, tzinfo=UTC)
    state = FetchState(last_ok=friday_evening, last_attempt=friday_evening)
    assert next_fetch(ARXIV, state, friday_evening) == announced


def test_a_refresh_covers_the_last_two_utc_days() -> None:
    late = datetime(2026, 1, 7, 23, 30, tzinfo=UTC)
    assert [d.isoformat() for d in recent_days(late)] == ["2026-01-06", "2026-01-07"]
