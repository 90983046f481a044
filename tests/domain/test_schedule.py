from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.domain.schedule import (
    DigestConfig,
    due_day,
    next_post,
    parse_post_time,
    parse_timezone,
    post_instant,
    timezone_choices,
)
from bot.errors import InvalidInput

GRACE = timedelta(hours=6)


def config(tz: str = "Europe/Berlin", at: time = time(9, 0), **kw: object) -> DigestConfig:
    return DigestConfig(guild_id=1, channel_id=2, post_time=at, timezone=tz, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"), [("09:00", time(9)), ("9:05", time(9, 5)), ("21h30", time(21, 30))]
)
def test_times(text: str, expected: time) -> None:
    assert parse_post_time(text) == expected


@pytest.mark.parametrize("text", ["25:00", "9", "09:60", "noon", ""])
def test_bad_times(text: str) -> None:
    with pytest.raises(InvalidInput, match="HH:MM"):
        parse_post_time(text)


def test_timezones() -> None:
    assert parse_timezone("europe/berlin") == "Europe/Berlin"
    with pytest.raises(InvalidInput, match="not a time zone"):
        parse_timezone("Mars/Olympus_Mons")
    assert timezone_choices("berl")[0] == "Europe/Berlin"
    assert len(timezone_choices("a")) == 25


def test_post_follows_local_wall_clock_across_dst() -> None:
    berlin = config()
    # Winter: 09:00 CET is 08:00 UTC; after 29 March 2026 09:00 CEST is 07:00 UTC.
    assert post_instant(berlin, date(2026, 3, 28)).astimezone(UTC).hour == 8
    assert post_instant(berlin, date(2026, 3, 29)).astimezone(UTC).hour == 7
    new_york = config("America/New_York")
    assert post_instant(new_york, date(2026, 3, 7)).astimezone(UTC).hour == 14
    assert post_instant(new_york, date(2026, 3, 8)).astimezone(UTC).hour == 13


def test_due_within_the_grace_window_only() -> None:
    berlin = config()
    at = datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert due_day(berlin, at - timedelta(minutes=1), GRACE) is None
    assert due_day(berlin, at, GRACE) == date(2026, 3, 29)
    assert due_day(berlin, at + GRACE, GRACE) == date(2026, 3, 29)
    assert due_day(berlin, at + GRACE + timedelta(minutes=1), GRACE) is None


def test_a_late_evening_post_is_caught_up_after_midnight() -> None:
    late = config("UTC", time(23, 30))
    assert due_day(late, datetime(2026, 1, 2, 1, 0, tzinfo=UTC), GRACE) == date(2026, 1, 1)


def test_weekdays_only_and_paused() -> None:
    saturday = datetime(2026, 1, 3, 9, 30, tzinfo=UTC)
    assert due_day(config("UTC", weekdays_only=True), saturday, GRACE) is None
    assert due_day(config("UTC"), saturday, GRACE) == date(2026, 1, 3)
    assert due_day(config("UTC", paused=True), saturday, GRACE) is None
    assert next_post(config("UTC", weekdays_only=True), saturday) == datetime(2026, 1, 5, 9, tzinfo=UTC)
