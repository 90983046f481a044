"""Every post time on every DST change day, in zones whose clocks change differently.

A post time in the spring-forward gap (02:30 Europe/Berlin on the last Sunday of March) does not
exist on the wall; one in the fall-back fold happens twice. Either way the day's post must go out
once, the catch-up window must be the configured grace in elapsed time (not an hour shorter or
longer), and the scheduler's job must fire at the instant the window starts, or a short grace
would skip the day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.schedule import DigestConfig, due_day, local_date, next_post, post_instant
from bot.scheduler import post_trigger

# Northern and southern hemisphere, one-hour changes at 01:00 and 02:00 local, at midnight (the gap
# swallows 00:00, the fold repeats 23:00-24:00 of the day before), and a half-hour change.
ZONES = (
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "America/Santiago",
    "America/Havana",
    "Australia/Lord_Howe",
)
GRACES = (timedelta(0), timedelta(minutes=1), timedelta(minutes=60), timedelta(minutes=360))
SECOND = timedelta(seconds=1)


def change_days(zone: str, year: int = 2026) -> list[date]:
    """The local days of ``year`` on which the zone's UTC offset changes."""
    tz = ZoneInfo(zone)
    days = []
    day = date(year, 1, 1)
    while day.year == year:
        after = day + timedelta(days=1)
        start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(after, time(0), tzinfo=tz).astimezone(UTC)
        if end - start != timedelta(days=1):
            days.append(day)
        day = after
    return days


CASES = [(zone, day) for zone in ZONES for day in change_days(zone)]


def test_every_zone_has_a_spring_forward_and_a_fall_back_day() -> None:
    for zone in ZONES:
        assert len(change_days(zone)) == 2, zone


def quarter_hours() -> list[time]:
    return [time(hour, minute) for hour in range(24) for minute in (0, 15, 30, 45)]


@pytest.mark.parametrize(("zone", "day"), CASES, ids=[f"{zone}-{day}" for zone, day in CASES])
def test_every_post_time_on_a_dst_change_day_is_due_for_exactly_its_grace(zone: str, day: date) -> None:
    for at in quarter_hours():
        config = DigestConfig(guild_id=1, channel_id=2, post_time=at, timezone=zone)
        instant = post_instant(config, day).astimezone(UTC)
        label = f"{zone} {day} {at}"
        # The post lands on its own local day, and the schedule announces it for that instant.
        assert local_date(instant, zone) == day, label
        assert next_post(config, instant - SECOND).astimezone(UTC) == instant, label
        for grace in GRACES:
            assert due_day(config, instant - SECOND, grace) != day, (label, grace)
            assert due_day(config, instant, grace) == day, (label, grace)
            assert due_day(config, instant + grace / 2, grace) == day, (label, grace)
            assert due_day(config, instant + grace, grace) == day, (label, grace)
            assert due_day(config, instant + grace + SECOND, grace) != day, (label, grace)


@pytest.mark.parametrize(("zone", "day"), CASES, ids=[f"{zone}-{day}" for zone, day in CASES])
def test_the_post_job_fires_at_the_post_instant_on_a_dst_change_day(zone: str, day: date) -> None:
    """At the instant itself: a grace of 0 minutes is valid, and a job that fired later (or, as
    apscheduler's cron trigger does for a midnight gap, the next day) would leave the day unposted."""
    for at in quarter_hours():
        config = DigestConfig(guild_id=1, channel_id=2, post_time=at, timezone=zone)
        instant = post_instant(config, day).astimezone(UTC)
        trigger = post_trigger(config)
        fires = trigger.get_next_fire_time(None, instant - timedelta(hours=1))
        assert fires.astimezone(UTC) == instant, f"{zone} {day} {at}: fires {fires}"
        following = trigger.get_next_fire_time(fires, instant)
        expected = post_instant(config, day + timedelta(days=1)).astimezone(UTC)
        assert following.astimezone(UTC) == expected, f"{zone} {day} {at}: then fires {following}"


def test_the_reported_berlin_gap_post_is_sent_and_caught_up() -> None:
    """02:30 Europe/Berlin on 29 March 2026 (01:30 UTC): due when the cron job fires with a
    one-hour grace, and still due 5 h 45 min late with the default six hours."""
    config = DigestConfig(guild_id=1, channel_id=2, post_time=time(2, 30), timezone="Europe/Berlin")
    assert due_day(config, datetime(2026, 3, 29, 1, 30, 1, tzinfo=UTC), timedelta(minutes=60)) == date(
        2026, 3, 29
    )
    assert due_day(config, datetime(2026, 3, 29, 7, 15, tzinfo=UTC), timedelta(minutes=360)) == date(
        2026, 3, 29
    )
