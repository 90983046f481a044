"""/privacy forget while the member's alert DM is in any state of delivery: after the forget, no
further part of it reaches them (from the process sending it, from its own retry, or from another
process taking over a dead one's lease), and no row of theirs is left. Both backends."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.digest import DigestMessage
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.connection import Store
from bot.storage.privacy import Forgotten
from tests.cogs.test_delivery_matrix import papers as listed
from tests.cogs.test_privacy import rows
from tests.delivery_cells import ALERT_PAPERS

GUILD, MEMBER = 77, 4242
PARTS = 5
START = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=Settings().delivery.lease_seconds)


class Killed(BaseException):
    """The process died here (uncatchable, as SIGKILL)."""


class DiscordDown(Exception):
    """A 5xx: the part did not go out; the batch is released for a retry."""


class Messenger:
    """The member's DMs; ``at_part`` runs when that part is sent (after it went out, unless it
    raises DiscordDown)."""

    def __init__(self, at_part: int = 0, then: Callable[[], object] | None = None) -> None:
        self.sent: list[str] = []  # nonces, in order
        self.at_part, self.then = at_part, then

    async def is_member(self, guild_id: int, user_id: int) -> bool:
        return True

    async def find_parts(self, user_id: int, marker: str, *, since: datetime) -> dict[int, int]:
        return {}

    async def send(self, user_id: int, message: DigestMessage, *, nonce: str) -> int:
        if len(self.sent) + 1 == self.at_part and self.then is not None:
            hook, self.then = self.then, None
            outcome = hook()
            if isinstance(outcome, BaseException):
                if isinstance(outcome, DiscordDown):
                    raise outcome
                self.sent.append(nonce)
                raise outcome
            if inspect.isawaitable(outcome):
                await outcome
        self.sent.append(nonce)
        return len(self.sent)


class World:
    def __init__(self, database: Store) -> None:
        self.database = database
        self.now = START

    async def process(self) -> Services:
        settings = Settings(follows={"dm_interval_seconds": 0})
        return await Services.open(self.database, settings, clock=lambda: self.now)

    async def member_rows(self) -> dict[str, int]:
        """The member's rows left in any table that holds member data (none, once forgotten)."""
        found = await rows(await self.process(), MEMBER)
        return {table: n for table, n in found.items() if n}


async def queued(world: World) -> Services:
    first = await world.process()
    await first.follows.add(MEMBER, GUILD, "diffusion")
    await first.papers.ingest(listed(ALERT_PAPERS[PARTS]))
    return first


STATES = ["queued", "sent"] + [
    f"{state}-{part}of{PARTS}" for state in ("sending", "dead", "released") for part in range(1, PARTS + 1)
]


@pytest.mark.parametrize("state", STATES)
async def test_after_forget_no_part_of_the_members_dm_is_sent_and_no_row_of_theirs_stays(
    database: Store, state: str
) -> None:
    world = World(database)
    first = await queued(world)
    forgotten_after = 0  # parts sent before the forget: what the member may have got
    kind, _, where = state.partition("-")
    part = int(where.split("of")[0]) if where else 0

    if kind == "queued":
        reply = await first.privacy.forget(MEMBER)
    elif kind == "sent":
        done = Messenger()
        await first.alerts.deliver(done)
        assert len(done.sent) == PARTS
        forgotten_after = PARTS
        reply = await first.privacy.forget(MEMBER)
    elif kind == "sending":  # the member forgets while part k is on its way, in this process
        answers: list[Forgotten] = []

        async def forget_now() -> None:
            answers.append(await first.privacy.forget(MEMBER))

        live = Messenger(part, forget_now)
        await first.alerts.deliver(live)
        assert len(live.sent) == part  # the part on its way arrives; nothing after it
        forgotten_after = part
        (reply,) = answers
    elif kind == "dead":  # part k went out, then the process died before recording it
        dying = Messenger(part, lambda: Killed())
        with pytest.raises(Killed):
            await first.alerts.deliver(dying)
        forgotten_after = part
        reply = await first.privacy.forget(MEMBER)
    else:  # part k failed (5xx): the batch was released for the next poll's retry
        failing = Messenger(part, lambda: DiscordDown())
        await first.alerts.deliver(failing)
        forgotten_after = part - 1
        reply = await first.privacy.forget(MEMBER)

    if kind in ("dead", "released") or (kind == "sending" and part < PARTS):
        assert reply.stopped_in_flight == 1
    assert await world.member_rows() == {}

    # Every way the DM could go on: this process's next poll, and another process after the
    # dead one's lease expired (both at once, too).
    world.now += LEASE + timedelta(seconds=1)
    later = Messenger()
    second = await world.process()
    await first.alerts.deliver(later)
    await second.alerts.deliver(later)
    await second.papers.ingest(listed(3, first=101))  # more matches: nobody follows now
    await first.alerts.deliver(later)
    assert later.sent == [], f"{len(later.sent)} parts sent after {forgotten_after} before the forget"
    assert await world.member_rows() == {}


async def test_a_batch_id_is_never_handed_out_again_after_a_forget(database: Store) -> None:
    """Batch ids are in the DMs' nonces: a new member's DM must not reuse the forgotten one's."""
    world = World(database)
    first = await queued(world)
    await first.alerts.deliver(Messenger())
    async with database.connection.execute("SELECT max(id) FROM alert_batches") as cursor:
        row = await cursor.fetchone()
    forgotten_batch = int(row[0]) if row else 0
    await first.privacy.forget(MEMBER)
    other = Messenger()
    await first.follows.add(MEMBER + 1, GUILD, "diffusion")
    await first.papers.ingest(listed(3, first=101))
    await first.alerts.deliver(other)
    assert len(other.sent) == 1
    async with database.connection.execute(
        "SELECT min(id) FROM alert_batches WHERE user_id = ?", (MEMBER + 1,)
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None and int(row[0]) > forgotten_batch
