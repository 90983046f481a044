"""A digest's time zone or time changed around a day's post: each local day posted exactly once.

The matrix (both backends, a virtual clock): zone changes ahead of and behind UTC by small and large
offsets (+14 to -12 and back, a spring-forward day), a time change in one zone, each made before
the day's post, after it, and while it is in flight (part 2 of 3 sent, the process killed, the post
resumed by the next process under the new settings); the new time a minute away, hours away, or
already passed on the new zone's day; and pause/resume around the change. Each cell then runs four
days and asserts, on the new zone's calendar: every local day from the change on has exactly one
post or a recorded reason why not (``/digest show``'s "Not posted"); every post has each of its
parts once; a post the new settings make is labelled with its own local day; and the reply's
"Next post" is when the next post really went out.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.digest import DigestMessage
from bot.domain.schedule import post_instant
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.connection import Store
from tests.delivery_cells import daily_list

GUILD, CHANNEL, ADMIN = 5, 6, 7
PAPERS_PER_LIST = 40
MAX_PAPERS = 35  # three parts of a post
KILLED_AT_PART = 2
NONCE_WINDOW = timedelta(minutes=5)  # Discord's enforce_nonce window
MARKER = re.compile(r"digest (\d{4}-\d{2}-\d{2})(?: · (\d+) of (\d+))?$")


class Killed(BaseException):
    """The process died right after Discord created the message."""


@dataclass(frozen=True)
class Sent:
    at: datetime
    label: date
    part: int
    parts: int
    nonce: str


class Channel:
    """The digest's channel, as strict as Discord: a nonce repeated within the window returns the
    first message instead of a second; the process can be killed right after part k is created."""

    def __init__(self, clock: World) -> None:
        self.world = clock
        self.messages: list[Sent] = []
        self.die_after_part: int | None = None

    async def find_parts(self, channel_id: int, marker: str, *, since: datetime) -> dict[int, int]:
        found: dict[int, int] = {}
        for n, m in reversed(list(enumerate(self.messages, 1))):  # as the bot reads: the oldest wins
            if m.at >= since and marker == f"digest {m.label.isoformat()}":
                found[m.part] = n
        return found

    async def send(self, channel_id: int, message: DigestMessage, *, nonce: str) -> int:
        now = self.world.now
        for n, earlier in enumerate(self.messages, 1):
            if earlier.nonce == nonce and now - earlier.at < NONCE_WINDOW:
                return n
        footer = message.embeds[0].footer or ""
        found = MARKER.search(footer)
        assert found, footer
        label, part, parts = date.fromisoformat(found[1]), int(found[2] or 1), int(found[3] or 1)
        self.messages.append(Sent(now, label, part, parts, nonce))
        if self.die_after_part == part:
            self.die_after_part = None
            raise Killed()
        return len(self.messages)

    async def open_thread(self, channel_id: int, message_id: int, name: str) -> None:
        return None


@dataclass(frozen=True)
class Post:
    label: date
    started: datetime
    parts: tuple[int, ...]
    planned: int


def posts(messages: list[Sent]) -> list[Post]:
    """The channel's posts: a resumed post's later parts continue it (its nonces), a new part 1
    starts another."""
    open_posts: dict[str, list[Sent]] = {}
    found: list[list[Sent]] = []
    for message in messages:
        post_key = message.nonce[:18] + message.nonce[20:]  # all but the part number
        current = open_posts.get(post_key)
        if current is None or message.part <= current[-1].part:
            current = open_posts[post_key] = []
            found.append(current)
        current.append(message)
    return [Post(p[0].label, p[0].at, tuple(m.part for m in p), p[0].parts) for p in found]


@dataclass(frozen=True)
class ZoneChange:
    old_zone: str
    new_zone: str
    day: date  # the old zone's day whose post the change comes around
    old_time: time


ZONE_CHANGES = {
    # The trial's: a UTC digest moved to Los Angeles around its 00:05 post.
    "utc-to-los-angeles": ZoneChange("UTC", "America/Los_Angeles", date(2026, 11, 28), time(0, 5)),
    "utc-to-tokyo": ZoneChange("UTC", "Asia/Tokyo", date(2026, 11, 28), time(0, 5)),
    "london-to-berlin": ZoneChange("Europe/London", "Europe/Berlin", date(2026, 11, 28), time(23, 30)),
    "plus14-to-minus12": ZoneChange("Pacific/Kiritimati", "Etc/GMT+12", date(2026, 11, 28), time(0, 5)),
    "minus12-to-plus14": ZoneChange("Etc/GMT+12", "Pacific/Kiritimati", date(2026, 11, 28), time(23, 50)),
    # Berlin's spring-forward day: 02:30 does not exist and goes out at 03:30 CEST.
    "berlin-dst-to-new-york": ZoneChange("Europe/Berlin", "America/New_York", date(2026, 3, 29), time(2, 30)),
    # 00:57 Berlin is 23:57 UTC the day before: a post a minute after UTC's midnight carries the same
    # day minutes later (Discord must not answer it with the first: nonces differ per claim).
    "berlin-to-utc-at-midnight": ZoneChange("Europe/Berlin", "UTC", date(2026, 11, 28), time(0, 57)),
    "time-only": ZoneChange("UTC", "UTC", date(2026, 11, 28), time(9, 0)),
}
# When the admin changes the settings, around the old zone's post of ``day``.
WHEN = ("before", "after", "in-flight")
# The new time on the new zone's clock, from the moment of the change.
NEW_TIME = {
    "in-a-minute": timedelta(minutes=1),
    "in-five-hours": timedelta(hours=5),
    "passed": -timedelta(hours=2),
}
DAYS_AFTER = 4


class World:
    def __init__(self, database: Store) -> None:
        self.database = database
        self.now = datetime(2000, 1, 1, tzinfo=UTC)
        self.channel = Channel(self)

    async def process(self) -> Services:
        return await Services.open(self.database, Settings(), clock=lambda: self.now)


async def run_cell(database: Store, change: ZoneChange, when: str, new_time: timedelta, pause: str) -> None:
    world = World(database)
    old_post = post_instant_of(change.old_zone, change.day, change.old_time)
    start = old_post - timedelta(days=2, hours=1)
    world.now = start
    bot = await world.process()
    days = [(start - timedelta(days=3)).date() + timedelta(days=n) for n in range(DAYS_AFTER + 8)]
    await bot.papers.ingest(
        [p for n, day in enumerate(days) for p in daily_list(PAPERS_PER_LIST, day=day, first=n * 100 + 1)]
    )
    await bot.digests.configure(
        GUILD,
        CHANNEL,
        post_time=f"{change.old_time:%H:%M}",
        timezone=change.old_zone,
        max_papers=MAX_PAPERS,
        admin_id=ADMIN,
    )
    changed_at = old_post + (timedelta(minutes=-7) if when == "before" else timedelta(minutes=3))
    new_zone = ZoneInfo(change.new_zone)
    new_post_time = (changed_at + new_time).astimezone(new_zone).time().replace(second=0, microsecond=0)
    end = changed_at + timedelta(days=DAYS_AFTER)

    async def tick(at: datetime) -> None:
        nonlocal bot
        world.now = at
        try:
            await bot.digests.run_due(world.channel)
        except Killed:
            bot = await world.process()  # the process died; the next one starts on the same store

    # Up to the change: the old schedule, at its posts (the day's killed there, in flight).
    moments = sorted(
        at
        for at in {*every_six_hours(start, changed_at), *(old_post - timedelta(days=n) for n in range(3))}
        if at < changed_at
    )
    for at in moments:
        if at == old_post and when == "in-flight":
            world.channel.die_after_part = KILLED_AT_PART
        await tick(at)
    if when == "in-flight":
        assert [m.part for m in world.channel.messages[-KILLED_AT_PART:]] == list(
            range(1, KILLED_AT_PART + 1)
        )

    world.now = changed_at
    if pause == "paused-before":
        await bot.digests.pause(GUILD, CHANNEL, "Paused by the admin")
    config = await bot.digests.configure(
        GUILD,
        CHANNEL,
        post_time=f"{new_post_time:%H:%M}",
        timezone=change.new_zone,
        admin_id=ADMIN,
    )
    if pause == "paused-after":
        await bot.digests.pause(GUILD, CHANNEL, "Paused by the admin")
        world.now += timedelta(seconds=30)
        config = await bot.digests.resume(GUILD, CHANNEL)
    told = await bot.digests.status(config)

    posted_before = len(posts(world.channel.messages))
    later = [post_instant(config, day) for day in days]
    for at in sorted({*every_six_hours(world.now, end), *(a for a in later if world.now <= a <= end)}):
        await tick(at)

    made = posts(world.channel.messages)
    for post in made:
        assert post.parts == tuple(range(1, post.planned + 1)), f"parts of {post} not each once"
    # On the new zone's calendar, from the day of the change: one post a day, or a recorded reason.
    by_day: dict[date, list[Post]] = defaultdict(list)
    for post in made:
        by_day[post.started.astimezone(new_zone).date()].append(post)
    status = await bot.digests.status(config)
    missed = {m.post_day for m in status.missed}
    first_day = changed_at.astimezone(new_zone).date()
    last_day = end.astimezone(new_zone).date() - timedelta(days=1)
    day = first_day
    while day <= last_day:
        count = len(by_day[day])
        assert count == 1 or (count == 0 and day in missed), (
            f"{day} ({change.new_zone}): {count} posts {by_day[day]}, missed {sorted(missed)}"
        )
        day += timedelta(days=1)
    # The new settings' posts carry their own local day: never a back-dated note.
    new_posts = [p for p in made[posted_before:] if p.started >= changed_at and p.parts[0] == 1]
    for post in new_posts:
        assert post.label == post.started.astimezone(new_zone).date(), f"{post} is not labelled with its day"
    # What the admin was told at the change is what happened.
    assert told.next_post is not None and new_posts and told.next_post == new_posts[0].started


def post_instant_of(zone: str, day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def every_six_hours(start: datetime, end: datetime) -> list[datetime]:
    """Ticks between the posts: the missed-day check and anything left over run there too."""
    step = timedelta(hours=6)
    first = start.replace(minute=0, second=0, microsecond=0) + step
    return [first + step * n for n in range(int((end - first) / step) + 1)]


@pytest.mark.parametrize("new_time", list(NEW_TIME))
@pytest.mark.parametrize("when", WHEN)
@pytest.mark.parametrize("change", list(ZONE_CHANGES))
async def test_a_changed_zone_or_time_posts_each_local_day_once_or_says_why(
    database: Store, change: str, when: str, new_time: str
) -> None:
    await run_cell(database, ZONE_CHANGES[change], when, NEW_TIME[new_time], pause="none")


@pytest.mark.parametrize("pause", ["paused-before", "paused-after"])
@pytest.mark.parametrize("when", WHEN)
async def test_a_pause_and_resume_around_the_change_still_posts_each_local_day_once(
    database: Store, when: str, pause: str
) -> None:
    await run_cell(database, ZONE_CHANGES["utc-to-los-angeles"], when, NEW_TIME["in-a-minute"], pause=pause)
