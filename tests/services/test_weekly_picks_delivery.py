"""Weekly picks DMs exactly once (docs/reliability.md), on both backends: a fault at each step of
the send path, then recovery by a restarted process or by two processes at once; a DM Discord keeps
failing is retried with backoff, a bounded number of times; a refused DM is recorded, never retried.

Discord is played by ``Dms``: the members' DM channels. It does not honour nonces, so a process
killed after the send is kept from sending again by the ledger and the read-back alone (the nonce
is asserted separately: the same on every attempt)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.delivery import NONCE_LIMIT, PicksState, picks_nonce
from bot.domain.digest import DigestMessage, parse_part
from bot.domain.models import ListedPaper, Paper, Source
from bot.services.alerts import RecipientUnreachable
from bot.services.container import Services
from bot.services.library import iso_week
from bot.services.weekly_picks import MAX_ATTEMPTS, retry_delay
from bot.settings import Settings
from tests.backends import Opener
from tests.cogs.test_picks import NEW  # new papers like SAVED
from tests.conftest import FIXED_NOW

SAVED = Paper(
    title="Is Complexity Required for Neural Network Pruning? A Case Study on Global Magnitude Pruning",
    abstract="Global magnitude pruning of neural networks compared with complex pruning methods.",
    source=Source.HF_API,
    arxiv_id="2601.10000",
)
TOPICS = [
    "speech",
    "robots",
    "weather",
    "proteins",
    "chess",
    "traffic",
    "music",
    "galaxies",
    "markets",
    "vision",
]
# Other papers of the week: against them the pruning papers' words are distinctive (picks weigh
# terms by how rare they are).
OTHERS = [
    Paper(
        title=f"A study of {topic} with model {n}",
        abstract=f"We study {topic} data using benchmark {n} and report results.",
        source=Source.HF_API,
        arxiv_id=f"2601.2{n:04d}",
    )
    for n, topic in enumerate(TOPICS * 3)
]
MEMBERS = (101, 102, 103)
GUILD = 7  # the server where the members saved their papers
FAULTY = 102  # the middle member's DM fails: the others' go out all the same
LEASE = timedelta(seconds=Settings().delivery.lease_seconds)


class Killed(BaseException):
    """The process died here (as with SIGKILL: nothing after it runs)."""


class DiscordDown(Exception):
    """Discord answered 5xx (after discord.py's own retries)."""


@dataclass
class Sent:
    user_id: int
    message_id: int
    footer: str
    nonce: str
    at: datetime


@dataclass
class Dms:
    """The members' DM channels. ``fault``: what happens to ``FAULTY``'s next ``times`` sends."""

    now: list[datetime]
    fault: str | None = None
    times: int = 1
    left: set[int] = field(default_factory=set)  # members no longer in any server of the bot's
    asked: list[int] = field(default_factory=list)  # members whose membership was asked about
    messages: list[Sent] = field(default_factory=list)
    attempts: list[tuple[int, str, datetime]] = field(default_factory=list)  # (member, nonce, when)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def is_member(self, guild_id: int, user_id: int) -> bool:
        self.asked.append(user_id)
        return user_id not in self.left

    async def find_parts(self, user_id: int, marker: str, *, since: datetime) -> dict[int, int]:
        found: dict[int, int] = {}
        for sent in self.messages:
            part = parse_part(sent.footer, marker)
            if sent.user_id == user_id and sent.at >= since and part is not None:
                found.setdefault(part, sent.message_id)
        return found

    async def send(self, user_id: int, message: DigestMessage, *, nonce: str) -> int:
        self.attempts.append((user_id, nonce, self.now[0]))
        fault = self.fault if user_id == FAULTY and self.times > 0 else None
        if fault is not None:
            self.times -= 1
        if fault == "killed-before-send":
            raise Killed
        if fault == "5xx":
            raise DiscordDown("503 Service Unavailable")
        if fault == "refused":
            raise RecipientUnreachable("DMs closed")
        sent = Sent(user_id, next(self._ids), message.embeds[0].footer or "", nonce, self.now[0])
        self.messages.append(sent)  # Discord created it...
        if fault == "timeout":
            raise TimeoutError  # ...and the answer never came
        if fault == "killed-after-send":
            raise Killed  # ...and the process died before recording it
        return sent.message_id

    def attempts_at(self, user_id: int) -> int:
        return sum(1 for member, _, _ in self.attempts if member == user_id)

    def received(self, user_id: int) -> int:
        return sum(1 for sent in self.messages if sent.user_id == user_id)


@dataclass
class World:
    open_store: Opener
    now: list[datetime]
    stores: list[object] = field(default_factory=list)

    async def process(self) -> Services:
        """A new bot process (its own connection, its own instance id) on the shared database."""
        store = await self.open_store()
        self.stores.append(store)
        return await Services.open(store, Settings(), clock=lambda: self.now[0])

    def advance(self, delta: timedelta) -> None:
        self.now[0] += delta


@pytest.fixture
async def world(store_at: tuple[Opener, str]) -> AsyncIterator[World]:
    open_store, _ = store_at
    built = World(open_store, [FIXED_NOW])
    try:
        yield built
    finally:
        for store in built.stores:
            await store.close()  # type: ignore[attr-defined]


async def members_with_picks(process: Services, members: tuple[int, ...] = MEMBERS) -> None:
    week = [SAVED, *NEW, *OTHERS]
    listed = [ListedPaper(paper, date(2026, 7, 31), rank) for rank, paper in enumerate(week, 1)]
    await process.papers.ingest(listed)
    await process.papers.search.refresh()
    for member in members:
        await process.library.save(member, SAVED.arxiv_id or "", guild_id=GUILD)
        await process.library.set_weekly(member, True)
    assert await process.library.picks(members[0])  # the world has picks to send


FAULTS = ["killed-before-send", "5xx", "timeout", "killed-after-send", "refused"]
KILLED = {"killed-before-send", "killed-after-send"}


async def run(process: Services, dms: Dms) -> int:
    try:
        return await process.weekly_picks.deliver(dms)
    except Killed:
        return -1  # this process is gone


async def test_a_member_who_left_every_server_is_not_sent_picks_until_they_are_back(world: World) -> None:
    """Discord refuses a DM to someone who shares no server with the bot (and counts the refusal
    against it): as for alerts, the bot asks whether the member is still in one before the week is
    claimed. Weekly picks used to be sent to a member who left, refused every week."""
    process = await world.process()
    gone, staying = MEMBERS[0], MEMBERS[1]
    await members_with_picks(process, (gone, staying))
    dms = Dms(world.now, left={gone})

    assert await run(process, dms) == 1
    assert dms.attempts_at(gone) == 0 and dms.received(staying) == 1
    assert await process.repositories.follows.member_guilds(gone) == []  # the server they left
    dms.asked.clear()
    assert await run(process, dms) == 0
    assert gone not in dms.asked  # no server left to ask about: Discord is not asked every run

    # Back in the server later that week, they turn picks on there: that week's DM comes, once.
    world.advance(timedelta(hours=3))
    dms.left.clear()
    assert await process.library.set_weekly(gone, True, guild_id=GUILD)
    assert await run(process, dms) == 1
    assert await run(process, dms) == 0
    assert dms.received(gone) == 1 and dms.received(staying) == 1


async def test_a_member_still_in_one_server_gets_picks_though_they_left_another(world: World) -> None:
    process = await world.process()
    member = MEMBERS[0]
    await members_with_picks(process, (member,))
    await process.library.save(member, NEW[0].arxiv_id or "", guild_id=GUILD + 1)

    class LeftTheFirst(Dms):
        async def is_member(self, guild_id: int, user_id: int) -> bool:
            return guild_id != GUILD

    dms = LeftTheFirst(world.now)
    assert await run(process, dms) == 1
    assert await process.repositories.follows.member_guilds(member) == [GUILD + 1]


async def test_discord_failing_to_say_whether_one_member_shares_a_server_holds_up_no_other(
    world: World,
) -> None:
    """Asking Discord about the middle member fails (a 5xx): the members after them get their
    picks all the same (the whole run stopped there, every run), and the middle member gets
    theirs on a later run, once."""
    process = await world.process()
    await members_with_picks(process)

    class DownForOne(Dms):
        down = True

        async def is_member(self, guild_id: int, user_id: int) -> bool:
            if user_id == FAULTY and self.down:
                raise DiscordDown("503 Service Unavailable")
            return True

    dms = DownForOne(world.now)
    assert await run(process, dms) == 2
    assert [dms.received(member) for member in MEMBERS] == [1, 0, 1]
    dms.down = False
    assert await run(process, dms) == 1
    assert [dms.received(member) for member in MEMBERS] == [1, 1, 1]


@pytest.mark.parametrize("recovery", ["restart", "two"])
@pytest.mark.parametrize("fault", FAULTS)
async def test_a_fault_at_each_step_then_recovery_delivers_each_members_picks_once(
    world: World, fault: str, recovery: str
) -> None:
    first = await world.process()
    await members_with_picks(first)
    dms = Dms(world.now, fault=fault)

    await run(first, dms)
    # The DMs before the failed one went out (and, unless the process died, those after it).
    assert dms.received(MEMBERS[0]) == 1
    assert dms.received(MEMBERS[-1]) == (0 if fault in KILLED else 1)
    assert dms.received(FAULTY) == (1 if fault in {"timeout", "killed-after-send"} else 0)

    # While the failed DM is leased (or waits for its retry), no other process tries it.
    tried = dms.attempts_at(FAULTY)
    second = await world.process()
    await run(second, dms)
    assert dms.attempts_at(FAULTY) == tried
    week = iso_week(world.now[0])
    state = await first.repositories.library.picks_state(FAULTY, week)
    assert state == (PicksState.UNREACHABLE if fault == "refused" else PicksState.SENDING)

    world.advance(max(LEASE, retry_delay(1)) + timedelta(seconds=1))
    if recovery == "restart":  # the dead or failed process's successor, alone
        recovering = [second]
    else:  # two at once: the failed process itself (a dead one's successor) and another
        recovering = [second if fault in KILLED else first, await world.process()]
    await asyncio.gather(*(run(process, dms) for process in recovering))
    await asyncio.gather(*(run(process, dms) for process in recovering))  # and the next runs

    for member in MEMBERS:
        expected = 0 if member == FAULTY and fault == "refused" else 1
        assert dms.received(member) == expected, member  # none twice, none lost
    assert await first.repositories.library.picks_state(FAULTY, week) == (
        PicksState.UNREACHABLE if fault == "refused" else PicksState.SENT
    )
    # Every attempt at the member's DM carried the same nonce: Discord would keep one message.
    assert len({nonce for member, nonce, _ in dms.attempts if member == FAULTY}) == 1
    if fault == "refused":  # a refusal is final for the week: never asked again
        assert dms.attempts_at(FAULTY) == 1


async def test_a_dm_discord_keeps_failing_is_retried_with_backoff_then_given_up(world: World) -> None:
    process = await world.process()
    await members_with_picks(process, (FAULTY,))
    dms = Dms(world.now, fault="5xx", times=10**6)
    for _ in range(6 * 60):  # the bot's runs over six hours, every minute
        await run(process, dms)
        world.advance(timedelta(minutes=1))

    tries = [at for member, _, at in dms.attempts if member == FAULTY]
    assert len(tries) == MAX_ATTEMPTS  # bounded: Discord is not asked again and again
    gaps = [later - earlier for earlier, later in itertools.pairwise(tries)]
    assert gaps == [retry_delay(n) for n in range(1, MAX_ATTEMPTS)]  # each wait twice the one before
    assert await process.repositories.library.picks_state(FAULTY, iso_week(FIXED_NOW)) == PicksState.GAVE_UP
    assert dms.received(FAULTY) == 0


async def test_a_dm_that_failed_goes_out_once_when_discord_recovers(world: World) -> None:
    process = await world.process()
    await members_with_picks(process, (FAULTY,))
    dms = Dms(world.now, fault="timeout", times=MAX_ATTEMPTS - 1)  # created each time, never answered
    for _ in range(6 * 60):
        await run(process, dms)
        world.advance(timedelta(minutes=1))

    # The first timeout's DM arrived: the retry finds it by its marker and sends nothing more.
    assert dms.received(FAULTY) == 1
    assert await process.repositories.library.picks_state(FAULTY, iso_week(FIXED_NOW)) == PicksState.SENT


async def test_two_processes_started_together_send_each_members_picks_once(world: World) -> None:
    one, two = await world.process(), await world.process()
    members = tuple(range(1, 21))
    await members_with_picks(one, members)
    dms = Dms(world.now)

    counts = await asyncio.gather(run(one, dms), run(two, dms))

    assert sum(counts) == len(members)
    assert all(dms.received(member) == 1 for member in members)  # none twice, none left out
    assert await one.library.weekly_due() == [] and await two.library.weekly_due() == []


PLANS = st.text(min_size=1, max_size=200)
MONDAYS = st.dates(date(2015, 1, 1), date(2100, 12, 31)).map(lambda day: day - timedelta(days=day.weekday()))
MEMBER_WEEKS = st.tuples(st.integers(1, 2**64 - 1), MONDAYS, PLANS)


@given(MEMBER_WEEKS, MEMBER_WEEKS)
def test_picks_nonces_fit_discord_and_differ_per_member_week_and_message(
    one: tuple[int, date, str], other: tuple[int, date, str]
) -> None:
    assert len(picks_nonce(*one)) <= NONCE_LIMIT
    if one != other:
        assert picks_nonce(*one) != picks_nonce(*other)


@dataclass
class NoncedDms(Dms):
    """As Discord with ``enforce_nonce``: a message sent with a nonce the bot used in the last few
    minutes is not created; the earlier message is returned instead."""

    window: timedelta = timedelta(minutes=5)

    async def send(self, user_id: int, message: DigestMessage, *, nonce: str) -> int:
        for sent in self.messages:
            if sent.nonce == nonce and self.now[0] - sent.at <= self.window:
                self.attempts.append((user_id, nonce, self.now[0]))
                return sent.message_id
        return await super().send(user_id, message, nonce=nonce)


async def test_picks_turned_back_on_after_a_forget_in_the_same_week_arrive_under_a_new_nonce(
    world: World,
) -> None:
    """The sequence that reused the nonce: the week's picks DM goes out; the member runs /privacy
    forget (their settings and the week's send go, so the week is theirs to claim again), saves a
    paper and turns weekly picks back on; the next run claims the same week for them. The new DM
    (other picks) carried the week's nonce again, so Discord, within its nonce window, kept the
    first DM and created nothing: the member never saw it, and the ledger called it sent."""
    process = await world.process()
    member = MEMBERS[0]
    await members_with_picks(process, (member,))
    dms = NoncedDms(world.now)
    assert await run(process, dms) == 1

    world.advance(timedelta(minutes=1))
    await process.privacy.forget(member)
    await process.library.save(member, NEW[0].arxiv_id or "", guild_id=GUILD)
    await process.library.set_weekly(member, True)
    assert await run(process, dms) == 1

    assert dms.received(member) == 2  # the member sees the second DM of the week too
    first, second = (sent for sent in dms.messages if sent.user_id == member)
    assert first.nonce != second.nonce
    # Each attempt at one DM still carries one nonce (Discord keeps one message if it is retried).
    assert len({nonce for _, nonce, _ in dms.attempts}) == 2
