"""Missed digest days on both backends: recorded once however many processes look, and their
notice delivered once, by DM or (DMs closed) in the channel, resumed after a crash without a repeat."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.digest import DigestMessage
from bot.services.alerts import RecipientUnreachable
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.connection import Store

GUILD, CHANNEL, ADMIN = 5, 6, 7
SET_UP = datetime(2026, 8, 1, 8, 0, tzinfo=UTC)
DAY = date(2026, 8, 1)


class Killed(BaseException):
    """The process died right after Discord created the message."""


class Destination:
    """DMs (target: a user) or a channel (target: the channel): what arrived, by marker."""

    def __init__(self, *, refuse: bool = False, die_after_send: bool = False) -> None:
        self.arrived: list[tuple[int, str, str]] = []  # (target, footer, nonce)
        self.refuse, self.die_after_send = refuse, die_after_send

    async def is_member(self, guild_id: int, user_id: int) -> bool:
        return True

    async def find_parts(self, target: int, marker: str, *, since: datetime) -> dict[int, int]:
        found = [n for n, (t, footer, _) in enumerate(self.arrived, 1) if t == target and marker in footer]
        return {1: found[0]} if found else {}  # a notice is one message: part 1

    async def send(self, target: int, message: DigestMessage, *, nonce: str) -> int:
        if self.refuse:
            raise RecipientUnreachable("Cannot send messages to this user")
        self.arrived.append((target, message.embeds[0].footer or "", nonce))
        if self.die_after_send:
            self.die_after_send = False
            raise Killed()
        return len(self.arrived)

    async def open_thread(self, channel_id: int, message_id: int, name: str) -> None:
        return None


class World:
    def __init__(self, database: Store) -> None:
        self.database, self.now = database, SET_UP

    async def process(self) -> Services:
        return await Services.open(self.database, Settings(), clock=lambda: self.now)


@pytest.mark.parametrize("dms", ["open", "closed", "killed-after-send"])
async def test_a_missed_day_is_recorded_and_told_once_by_any_number_of_processes(
    database: Store, dms: str
) -> None:
    world = World(database)
    first = await world.process()
    await first.digests.configure(GUILD, CHANNEL, post_time="09:00", timezone="UTC", admin_id=ADMIN)
    world.now = datetime(2026, 8, 1, 16, 0, tzinfo=UTC)  # down from before 09:00 to 16:00
    second = await world.process()
    assert await first.digests.missed.record(await first.digests.configs(), world.now) == 1
    assert await second.digests.missed.record(await second.digests.configs(), world.now) == 0
    config = await first.digests.require(GUILD, CHANNEL)
    status = await first.digests.status(config)
    assert [(m.post_day, "not running" in m.reason) for m in status.missed] == [(DAY, True)]

    dm = Destination(refuse=dms == "closed", die_after_send=dms == "killed-after-send")
    channel = Destination()
    if dms == "killed-after-send":
        with pytest.raises(Killed):
            await first.digest_notices.deliver(dm, channel)
        world.now += timedelta(seconds=Settings().delivery.lease_seconds + 1)  # the dead one's lease ends
    for process in (first, second, first, second):
        await process.digest_notices.deliver(dm, channel)
        world.now += timedelta(hours=1)
    if dms == "closed":
        assert dm.arrived == [] and [t for t, _, _ in channel.arrived] == [CHANNEL]
    else:
        assert [t for t, _, _ in dm.arrived] == [ADMIN] and channel.arrived == []


async def test_a_week_offline_logs_one_warning_with_the_counts_and_each_day_at_info(
    database: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """A self-hoster back from a week offline with 30 digests reads one warning saying how many
    posts, digests and days were missed (it was 210 warning lines), the days themselves at INFO."""
    world = World(database)
    process = await world.process()
    channels = [(guild, guild * 100 + n) for guild in (101, 102, 103) for n in range(10)]
    for guild, channel in channels:
        await process.digests.configure(guild, channel, post_time="09:00", timezone="UTC", admin_id=ADMIN)
    world.now = SET_UP + timedelta(days=8, hours=1)
    with caplog.at_level(logging.DEBUG, logger="bot.services.missed_digests"):
        assert await process.digests.missed.record(await process.digests.configs(), world.now) == 210
    records = [r for r in caplog.records if r.name == "bot.services.missed_digests"]
    [warning] = [r for r in records if r.levelno >= logging.WARNING]
    counts = [int(n) for n in re.findall(r"(\d+) (?:digest posts|digests|days)\b", warning.getMessage())]
    assert counts == [210, 30, 7]
    assert warning.getMessage().count("channel ") == 3  # the first few named, not all 210
    assert len([r for r in records if r.levelno == logging.INFO]) == 210

    caplog.clear()
    world.now += timedelta(minutes=30)  # the next check finds nothing new: no warning at all
    with caplog.at_level(logging.DEBUG, logger="bot.services.missed_digests"):
        assert await process.digests.missed.record(await process.digests.configs(), world.now) == 0
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
