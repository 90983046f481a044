from __future__ import annotations

import operator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.domain.delivery import NONCE_LIMIT, digest_nonce
from bot.domain.schedule import (
    WEEKLY_GRACE,
    Cadence,
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


# ---- weekly digests -------------------------------------------------------------------------------

WEEKLY_WEDNESDAY = {"cadence": Cadence.WEEKLY, "weekday": 2}


def test_a_weekly_digest_is_keyed_by_its_iso_week_and_posts_on_its_weekday() -> None:
    weekly = config("UTC", **WEEKLY_WEDNESDAY)
    assert post_instant(weekly, date(2026, 1, 5)) == datetime(2026, 1, 7, 9, tzinfo=UTC)
    assert due_day(weekly, datetime(2026, 1, 7, 8, 59, tzinfo=UTC), GRACE) is None
    assert due_day(weekly, datetime(2026, 1, 7, 9, tzinfo=UTC), GRACE) == date(2026, 1, 5)  # its Monday
    assert next_post(weekly, datetime(2026, 1, 7, 9, tzinfo=UTC)) == datetime(2026, 1, 14, 9, tzinfo=UTC)
    # Around a new year the ISO week starts in the old one: week 1 of 2026 begins on 29 December.
    assert due_day(weekly, datetime(2025, 12, 31, 12, tzinfo=UTC), GRACE) == date(2025, 12, 29)


def test_a_missed_weekly_post_is_due_all_week_but_never_beside_the_next_one() -> None:
    weekly = config("Europe/Berlin", **WEEKLY_WEDNESDAY)
    wednesday = datetime(2026, 1, 7, 8, tzinfo=UTC)  # 09:00 in Berlin
    assert due_day(weekly, wednesday + timedelta(days=3), GRACE) == date(2026, 1, 5)  # down till Saturday
    assert due_day(weekly, wednesday + timedelta(days=6, hours=23), GRACE) == date(2026, 1, 5)
    assert due_day(weekly, wednesday + timedelta(days=6, hours=23, minutes=1), GRACE) is None
    assert due_day(weekly, wednesday + timedelta(days=7), GRACE) == date(2026, 1, 12)


def _clock_changes(zones: tuple[str, ...], years: range) -> list[datetime]:
    """The instants (to the hour) at which these zones change their clocks."""
    changes = []
    for name in zones:
        zone, day = ZoneInfo(name), datetime(years.start, 1, 1, tzinfo=UTC)
        while day.year < years.stop:
            hours = [day + timedelta(hours=h) for h in range(25)]
            offsets = [hour.astimezone(zone).utcoffset() for hour in (hours[0], hours[-1])]
            if offsets[0] != offsets[1]:  # changed today: find the hour
                changes.append(next(h for h in hours if h.astimezone(zone).utcoffset() == offsets[1]))
            day = hours[-1]
    return changes


# A week around a change of the clocks is an hour short or long (half an hour on Lord Howe): instants
# drawn evenly over four years seldom land where a window ends beside one, so half are drawn there.
NEAR_CLOCK_CHANGES = st.builds(
    operator.add,
    st.sampled_from(
        _clock_changes(("Europe/Berlin", "America/New_York", "Australia/Lord_Howe"), range(2025, 2029))
    ),
    st.timedeltas(-timedelta(days=8), timedelta(days=8)),
)
INSTANTS = (
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))
    | NEAR_CLOCK_CHANGES
)


@given(
    instant=INSTANTS,
    weekday=st.integers(0, 6),
    at=st.times(),
    zone=st.sampled_from(
        ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]
    ),
)
# The week the clocks go forward is an hour short: its post is due up to one minute before the next.
@example(instant=datetime(2025, 4, 1, 9, tzinfo=UTC), weekday=1, at=time(11, 1), zone="Europe/Berlin")
def test_a_due_weekly_post_is_the_iso_week_of_its_own_post_time(
    instant: datetime, weekday: int, at: time, zone: str
) -> None:
    weekly = config(zone, at.replace(second=0, microsecond=0), cadence=Cadence.WEEKLY, weekday=weekday)
    due = due_day(weekly, instant, GRACE)
    if due is not None:
        posted_at = post_instant(weekly, due)
        # The window is elapsed time: added in UTC (added to the local post time it would be a
        # wall-clock span, an hour off across a change of the clocks).
        assert due.weekday() == 0 and posted_at <= instant <= posted_at.astimezone(UTC) + WEEKLY_GRACE
        assert posted_at.astimezone(ZoneInfo(zone)).weekday() == weekday


@given(
    made=INSTANTS,
    later=st.timedeltas(timedelta(0), timedelta(days=8)),
    at=st.times(),
    weekly=st.booleans(),
    zone=st.sampled_from(
        ["UTC", "Europe/Berlin", "America/New_York", "Pacific/Kiritimati", "Asia/Kathmandu"]
    ),
)
# A week the clocks go back is an hour long: its window still ends 6 days 23 hours after the post.
@example(
    made=datetime(2025, 10, 27, 15, tzinfo=UTC),
    later=timedelta(days=7, minutes=30),
    at=time(12),
    weekly=True,
    zone="America/New_York",
)
def test_a_post_time_before_the_settings_were_made_is_never_due(
    made: datetime, later: timedelta, at: time, weekly: bool, zone: str
) -> None:
    """Catch-up is for downtime: a digest set up (or edited) at ``made`` never sends a post whose
    time came before that, however much later it is asked; its first post is the next occurrence."""
    cadence = Cadence.WEEKLY if weekly else Cadence.DAILY
    digest = config(zone, at.replace(second=0, microsecond=0), cadence=cadence, schedule_from=made)
    now = made + later
    due = due_day(digest, now, GRACE)
    if due is not None:
        assert made <= post_instant(digest, due) <= now
    first = next_post(digest, made)
    if first <= now:  # its first post's time has come: it is due until the window passes
        assert due is not None or now > first.astimezone(UTC) + (WEEKLY_GRACE if weekly else GRACE)


@given(
    channels=st.lists(st.integers(1, 2**64 - 1), min_size=2, max_size=2, unique=True),
    days=st.dates(date(2015, 1, 1), date(2100, 12, 31)),
    part=st.integers(1, 99),
    weekly=st.booleans(),
)
def test_digest_nonces_are_unique_per_channel_and_fit_discord(
    channels: list[int], days: date, part: int, weekly: bool
) -> None:
    first, second = channels
    nonce = digest_nonce(first, days, part, weekly=weekly)
    assert len(nonce) <= NONCE_LIMIT
    others = {
        digest_nonce(second, days, part, weekly=weekly),  # another channel, same post
        digest_nonce(first, days, part, weekly=not weekly),  # the daily and the weekly post of a Monday
        digest_nonce(first, days + timedelta(days=1), part, weekly=weekly),
        digest_nonce(first, days, part + 1, weekly=weekly),
    }
    assert nonce not in others


@given(
    channel=st.integers(1, 2**64 - 1),
    day=st.dates(date(2015, 1, 1), date(2100, 12, 31)),
    part=st.integers(1, 99),
    claimed=st.datetimes(datetime(2015, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
    later=st.integers(1, 60 * 24 * 365),
)
def test_two_claims_of_one_day_a_zone_change_apart_never_share_a_nonce(
    channel: int, day: date, part: int, claimed: datetime, later: int
) -> None:
    """After a change of time zone a channel can get two posts labelled with the same day minutes
    apart: Discord must not answer the second with the first. Each claim's nonce stays the same on
    every attempt (its claim time is frozen with it) and fits Discord's 25 characters."""
    nonce = digest_nonce(channel, day, part, claimed_at=claimed)
    assert nonce == digest_nonce(
        channel, day, part, claimed_at=claimed + timedelta(seconds=59 - claimed.second)
    )
    assert len(nonce) <= NONCE_LIMIT
    assert nonce != digest_nonce(channel, day, part, claimed_at=claimed + timedelta(minutes=later))
