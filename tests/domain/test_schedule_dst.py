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


FALL_BACKS = [
    (zone, day)
    for zone, day in CASES
    if datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    - datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    > timedelta(days=1)
]


def shown_on_the_wall(at: time, zone: str, made: datetime) -> datetime:
    """The first instant at or after ``made`` at which the zone's clocks show ``at`` (a time the
    fall-back hour repeats is shown twice)."""
    tz = ZoneInfo(zone)
    start = local_date(made, zone)
    instants = [
        candidate.astimezone(UTC)
        for day in (start, start + timedelta(days=1))
        for fold in (0, 1)
        if (candidate := datetime.combine(day, at, tzinfo=tz).replace(fold=fold))
        .astimezone(UTC)
        .astimezone(tz)
        .time()
        == at
    ]
    return min(instant for instant in instants if instant >= made)


@pytest.mark.parametrize(("zone", "day"), FALL_BACKS, ids=[f"{zone}-{day}" for zone, day in FALL_BACKS])
def test_a_digest_set_up_in_the_repeated_hour_first_posts_when_the_wall_clock_next_shows_its_time(
    zone: str, day: date
) -> None:
    """Set up at 01:20 EST on 1 November (New York's second 01:20) for 01:45: the clocks show 01:45
    again 25 minutes later, so that is its first post, not tomorrow's; once, and the next day as
    usual. Every setup minute (5-minute steps) around the change, every post time the wall shows."""
    tz = ZoneInfo(zone)
    midnight = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    quarters = (midnight + timedelta(minutes=m) for m in range(15, 26 * 60, 15))
    change = next(q for q in quarters if q.astimezone(tz).utcoffset() != midnight.astimezone(tz).utcoffset())
    for step in range(-24, 25):
        made = change + timedelta(minutes=5 * step)
        for at in quarter_hours():  # a fall-back day has no gap: the wall shows every one
            config = DigestConfig(guild_id=1, channel_id=2, post_time=at, timezone=zone, schedule_from=made)
            label = f"{zone} set up {made.astimezone(tz)} for {at}"
            first = post_trigger(config).get_next_fire_time(None, made).astimezone(UTC)
            assert first == shown_on_the_wall(at, zone, made), label
            posted = local_date(first, zone)
            assert due_day(config, first, timedelta(0)) == posted, label
            assert due_day(config, first - SECOND, timedelta(hours=6)) != posted, label
            following = next_post(config, first)
            assert local_date(following, zone) == posted + timedelta(days=1), label
