"""A missed-day notice re-dated by a zone change while its grouped DM is part-way sent is said once,
on both backends: in the DM, or (the DMs then refusing) in its channel, never both.

The world of the grouped-notices matrix: 30 digests of one admin, a week offline, 210 days in a DM
of 2 parts. Part 2 is refused (the admin closed their DMs), so what part 2 held is said in the
channels. One channel's time zone moves from UTC to Honolulu, which re-dates its missed days to
the day before (09:00 UTC is 23:00 there the previous day; the new zone's Saturday, its time
passed, is one more missed day, which the setup's reply tells). The matrix: that channel's days in
part 1 or in part 2 × the change made after the DM was planned but before part 1 arrived, or once
part 1 arrived × part 1 recorded by the process that sent it, or by the next one after a kill
between Discord creating part 1 and the record (a restart in between). Each cell: each channel's
days are said once in all (the re-dated channel's 7 included), no part twice, the ledger closed.
The part recording used to look notices up by the day frozen in the plan, so a notice re-dated
meanwhile was not marked told by its part and went to the channel too."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot.domain.digest import DigestMessage
from bot.services.alerts import RecipientUnreachable
from bot.services.container import Services
from bot.storage.connection import Store
from tests.services.test_grouped_notices import (
    CHANNELS,
    LEASE,
    SERVERS,
    Discord,
    Killed,
    World,
    deliver,
    told,
)

IN_PART = {1: CHANNELS[SERVERS[0]][0], 2: CHANNELS[SERVERS[-1]][-1]}  # the first and the last listed
WHEN = ("before-part-1", "after-part-1")
RECORDED_BY = ("same-process", "next-process")


class ZoneChangingDiscord(Discord):
    """Part 1 of the DM arrives (its process killed right after, if ``kill_after_part_1``), part 2
    is refused; ``before_part[k]`` runs just before DM part k is sent."""

    def __init__(self, *, kill_after_part_1: bool) -> None:
        super().__init__("none", 0)
        self.kill_after_part_1 = kill_after_part_1
        self.before_part: dict[int, Callable[[], Awaitable[None]]] = {}

    async def send(self, target: int, message: DigestMessage, nonce: str, *, in_dm: bool) -> int:
        footer = message.embeds[0].footer or ""
        part = 1 if footer.endswith("1 of 2") else 2
        if in_dm and (hook := self.before_part.pop(part, None)) is not None:
            await hook()
        if in_dm and part == 2:
            self.dms_closed = True
            raise RecipientUnreachable("Cannot send messages to this user")
        number = await super().send(target, message, nonce, in_dm=in_dm)
        if in_dm and self.kill_after_part_1:
            self.kill_after_part_1 = False
            raise Killed()
        return number


@pytest.mark.parametrize("recorded_by", RECORDED_BY)
@pytest.mark.parametrize("when", WHEN)
@pytest.mark.parametrize("part", [1, 2])
async def test_a_notice_redated_while_its_dm_is_part_way_sent_is_said_once(
    database: Store, part: int, when: str, recorded_by: str
) -> None:
    world = World(database)
    first = await world.a_week_offline()
    moved = IN_PART[part]
    guild = next(g for g in SERVERS if moved in CHANNELS[g])
    days_before = {row.post_day for row in await first.digests.repository.ledger_days(guild, moved)}

    async def change_zone() -> None:
        await first.digests.configure(guild, moved, post_time="09:00", timezone="Pacific/Honolulu")

    discord = ZoneChangingDiscord(kill_after_part_1=recorded_by == "next-process")
    if when == "before-part-1":
        discord.before_part[1] = change_zone
    elif recorded_by == "same-process":
        discord.before_part[2] = change_zone
    with contextlib.suppress(Killed):
        await deliver(first, discord)
    process: Services = first
    if recorded_by == "next-process":
        if when == "after-part-1":
            await change_zone()  # between the kill and the restart
        world.now += LEASE + timedelta(minutes=1)
        process = await world.process()
    for _ in range(3):
        await deliver(process, discord)
        world.now += timedelta(hours=2)

    days_after = {row.post_day for row in await first.digests.repository.ledger_days(guild, moved)}
    # Each moved to the day before; the new zone's own Saturday, whose time had passed, is missed too.
    assert days_after == {day - timedelta(days=1) for day in days_before} | {max(days_before)}
    said = Counter[int]()
    for (channel, _day), count in told(discord).items():
        said[channel] += count
    # Seven notices a channel (the new zone's Saturday was told in the setup's reply, not noticed):
    # a day is said twice when a re-dated notice its part told is handed to the channel as well.
    assert said[moved] == 7, "the re-dated channel's days, once each"
    assert said == Counter({channel: 7 for channels in CHANNELS.values() for channel in channels})
    dms = [sent for sent in discord.arrived if sent.in_dm]
    assert len(dms) == 1 and dms[0].footer.endswith("1 of 2"), "part 1 once; part 2 refused"
    assert not await first.repositories.notice_batches.has_work(
        owner="anyone", now=world.now + timedelta(days=2)
    )
