"""Grouped missed-day notices, exactly once, on both backends: the matrix.

One admin set up 30 digests (10 in each of 3 servers); paperbot was offline a week: 210 days not
posted. The admin hears it in one grouped DM of as few messages as Discord's limits allow (2 here),
not 210 messages. Each cell fails the first send at part k of n (a 5xx, a kill between Discord
creating the message and the ledger recording it, the DMs refusing it), then recovers in one way
(the same process again, a new process after the lease, two processes at once, or with the input
changed between the plan and the resume: a digest removed, a new missed day, the admin's DMs
closing; or a resume whose read of the DMs misses the part, so only the nonce saves it). Every cell:
each missed day told exactly once (by DM, or in its channel once DMs refuse), no part twice, the
ledger closed. Discord's side is strict like the emulator: a repeated nonce gets the first message.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.digest import DigestMessage, parse_part
from bot.services.alerts import RecipientUnreachable
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.connection import Store

ADMIN = 7
SERVERS = (101, 102, 103)
CHANNELS = {guild: [guild * 100 + n for n in range(10)] for guild in SERVERS}
SET_UP = datetime(2026, 8, 1, 8, 0, tzinfo=UTC)
BACK = SET_UP + timedelta(days=8, hours=1)  # offline from before the first post until now
LEASE = timedelta(seconds=Settings().delivery.lease_seconds)
PARTS = 2  # what 210 days take within Discord's limits (asserted)

FAULTS = ("5xx", "kill", "refused")
RECOVERIES = ("resume", "restart", "two", "removed", "new-day", "dms-closed", "blind")
DAY_PATTERN = re.compile(r"(?:the week of )?([A-Z][a-z]{2} \d{2} [A-Z][a-z]{2} \d{4})")
CHANNEL_PATTERN = re.compile(r"<#(\d+)>")


class Killed(BaseException):
    """The process died right after Discord created the message."""


class DiscordDown(Exception):
    """A 503: the message was not created."""


@dataclass(frozen=True)
class Arrived:
    target: int
    in_dm: bool
    message: DigestMessage
    nonce: str

    @property
    def footer(self) -> str:
        return self.message.embeds[0].footer or ""


class Discord:
    """DMs and channels as strict as Discord about nonces: a repeated nonce returns the first message."""

    def __init__(self, fault: str, part: int) -> None:
        self.arrived: list[Arrived] = []
        self._by_nonce: dict[tuple[int, str], int] = {}
        self.fault, self.fault_part, self.faulted = fault, part, False
        self.dms_closed = False
        self.blind_reads = 0  # reads of the DMs that miss what arrived (history not caught up)
        self.dm = _View(self, in_dm=True)
        self.channel = _View(self, in_dm=False)

    async def send(self, target: int, message: DigestMessage, nonce: str, *, in_dm: bool) -> int:
        if in_dm and self.dms_closed:
            raise RecipientUnreachable("Cannot send messages to this user")
        footer = message.embeds[0].footer or ""
        marker = re.match(r"missed digests #\d+", footer)
        assert marker is not None, footer
        part = parse_part(footer, marker.group(0))
        due = in_dm and not self.faulted and part == self.fault_part
        if due and self.fault != "kill":
            self.faulted = True
            if self.fault == "refused":
                self.dms_closed = True
                raise RecipientUnreachable("Cannot send messages to this user")
            raise DiscordDown("503 Service Unavailable")
        if (target, nonce) in self._by_nonce:
            return self._by_nonce[(target, nonce)]
        self.arrived.append(Arrived(target, in_dm, message, nonce))
        self._by_nonce[(target, nonce)] = len(self.arrived)
        if due:
            self.faulted = True
            raise Killed()
        return len(self.arrived)

    async def find_parts(self, target: int, marker: str, *, in_dm: bool) -> dict[int, int]:
        if in_dm and self.blind_reads:
            self.blind_reads -= 1
            return {}
        found: dict[int, int] = {}
        for number, sent in enumerate(self.arrived, 1):
            if sent.target == target and sent.in_dm == in_dm and marker in sent.footer:
                part = parse_part(sent.footer, marker)
                if part is not None:
                    found.setdefault(part, number)
        return found


class _View:
    def __init__(self, discord: Discord, *, in_dm: bool) -> None:
        self._discord, self._in_dm = discord, in_dm

    async def find_parts(self, target: int, marker: str, *, since: datetime) -> dict[int, int]:
        return await self._discord.find_parts(target, marker, in_dm=self._in_dm)

    async def send(self, target: int, message: DigestMessage, *, nonce: str) -> int:
        return await self._discord.send(target, message, nonce, in_dm=self._in_dm)


def told(discord: Discord) -> Counter[tuple[int, date]]:
    """Each (channel, day) as the admin reads it in the messages that arrived (by DM: under the
    channel's mention; in a channel: that channel)."""
    seen: Counter[tuple[int, date]] = Counter()
    for sent in discord.arrived:
        channel = None if sent.in_dm else sent.target
        for embed in sent.message.embeds:
            for line in embed.description.splitlines():
                mention = CHANNEL_PATTERN.search(line)
                if sent.in_dm and mention and not line.startswith("•"):
                    channel = int(mention.group(1))
                if line.startswith("•"):
                    assert channel is not None, line
                    for day in DAY_PATTERN.findall(line.split(": ")[0]):
                        seen[(channel, datetime.strptime(day, "%a %d %b %Y").date())] += 1
    return seen


class World:
    def __init__(self, database: Store) -> None:
        self.database, self.now = database, SET_UP

    async def process(self) -> Services:
        return await Services.open(self.database, Settings(), clock=lambda: self.now)

    async def a_week_offline(self) -> Services:
        """A process where the admin's 30 digests were set up, then a week offline: 210 days missed."""
        process = await self.process()
        for guild in SERVERS:
            for channel in CHANNELS[guild]:
                await process.digests.configure(
                    guild, channel, post_time="09:00", timezone="UTC", admin_id=ADMIN
                )
        self.now = BACK
        assert await process.digests.missed.record(await process.digests.configs(), self.now) == 210
        return process

    async def missed_days(self, services: Services) -> set[tuple[int, date]]:
        days = set()
        for guild in SERVERS:
            for channel in CHANNELS[guild]:
                rows = await services.digests.repository.ledger_days(guild, channel)
                days |= {(channel, row.post_day) for row in rows if row.missed}
        return days


async def deliver(process: Services, discord: Discord) -> int:
    return await process.digest_notices.deliver(discord.dm, discord.channel, lambda guild: f"Lab {guild}")


async def first_delivery(process: Services, discord: Discord) -> None:
    with contextlib.suppress(Killed):
        await deliver(process, discord)


# The read missing the part only matters where the part arrived unrecorded (a kill); DMs closing
# after they refused is no change.
CELLS = [
    (fault, part, recovery)
    for fault in FAULTS
    for part in range(1, PARTS + 1)
    for recovery in RECOVERIES
    if (recovery != "blind" or fault == "kill") and (fault, recovery) != ("refused", "dms-closed")
]


@pytest.mark.parametrize(
    ("fault", "part", "recovery"), CELLS, ids=[f"{f}-{k}of{PARTS}-{r}" for f, k, r in CELLS]
)
async def test_a_week_of_missed_days_is_told_once_in_one_grouped_dm_whatever_fails(
    database: Store, fault: str, part: int, recovery: str
) -> None:
    world = World(database)
    first = await world.a_week_offline()
    discord = Discord(fault, part)
    await first_delivery(first, discord)
    assert discord.faulted, "the fault was met"
    assert all(sent.footer.endswith(f" of {PARTS}") for sent in discord.arrived), "210 days fit in 2 messages"

    removed = CHANNELS[SERVERS[0]][0]
    if recovery == "removed":
        await first.digests.remove(SERVERS[0], removed)
    elif recovery == "new-day":
        world.now += timedelta(days=1)
        assert await first.digests.missed.record(await first.digests.configs(), world.now) == 30
    elif recovery == "dms-closed":
        discord.dms_closed = True
    elif recovery == "blind":
        discord.blind_reads = 3
    world.now += LEASE + timedelta(minutes=11)  # the dead process's lease and the retry's wait are over

    processes = [first] if recovery == "resume" else [await world.process(), await world.process()]
    for _ in range(4):
        if recovery == "two":
            await asyncio.gather(*(deliver(p, discord) for p in processes))
        else:
            await deliver(processes[0], discord)
        world.now += timedelta(hours=2)

    expected = await world.missed_days(first)
    seen = told(discord)
    kept = {key for key in expected if key[0] != removed or recovery != "removed"}
    assert {key for key in kept if seen[key] != 1} == set(), "each missed day told exactly once"
    assert set(seen) <= expected and all(count <= 1 for count in seen.values())
    parts = Counter((sent.target, sent.in_dm, sent.footer) for sent in discord.arrived)
    assert [key for key, count in parts.items() if count > 1] == [], "no part twice"
    dms = [sent for sent in discord.arrived if sent.in_dm]
    if fault == "refused" or recovery == "dms-closed":
        assert len(dms) == part - 1 or (fault == "kill" and len(dms) == part)
        assert {sent.target for sent in discord.arrived if not sent.in_dm} <= {
            c for channels in CHANNELS.values() for c in channels
        }
    else:
        # Grouped: one DM of 2 messages (3 with the next day's, which came after the plan).
        assert len(dms) == PARTS + (recovery == "new-day"), [sent.footer for sent in dms]
        assert all(not sent.in_dm or sent.target == ADMIN for sent in discord.arrived)
        assert [sent for sent in discord.arrived if not sent.in_dm] == []
    assert not await first.repositories.notice_batches.has_work(
        owner="anyone", now=world.now + timedelta(days=2)
    )
