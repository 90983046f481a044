"""`/privacy forget` by a digest admin, on both backends: the grouped missed-day DMs addressed to
them (migration 0039) are theirs too. Forget ends the batch being sent to them and names them in
no row; the days it had not told go to the digests' channels (as a day missed after the forget
does: nobody is left to DM). The matrix: forget before the DM, after part 1 of 2 with part 2 failed
(a 5xx: a retry waits) or its process killed before sending it (a lease held by the dead), or after
the whole DM × the same process or a new one carrying on. Every cell: no DM reaches the admin
after the forget, each missed day is told exactly once (in the DM before the forget, or in its
channel), the ledger closes."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest

from bot.domain.about import MEMBER_TABLES
from bot.domain.digest import DigestMessage
from bot.services.container import Services
from bot.storage.connection import Store
from tests.member_tables import member_condition
from tests.services.test_grouped_notices import (
    ADMIN,
    LEASE,
    Discord,
    DiscordDown,
    Killed,
    World,
    deliver,
    told,
)

MOMENTS = ("before-the-dm", "5xx-at-part-2", "killed-before-part-2", "after-the-dm")
CARRY_ON = ("same-process", "new-process")


class DiscordFailingAtPart2(Discord):
    """Part 1 arrives; part 2 fails before Discord creates it (``how``: a 5xx or the process dying)."""

    def __init__(self, how: str | None) -> None:
        super().__init__("none", 0)
        self.how = how

    async def send(self, target: int, message: DigestMessage, nonce: str, *, in_dm: bool) -> int:
        if in_dm and self.how and (message.embeds[0].footer or "").endswith("2 of 2"):
            how, self.how = self.how, None
            self.faulted = True
            raise DiscordDown("503") if how == "5xx" else Killed()
        return await super().send(target, message, nonce, in_dm=in_dm)


async def rows_naming(database: Store, user_id: int) -> list[str]:
    found = []
    for table in MEMBER_TABLES:
        sql = f"SELECT count(*) FROM {table} WHERE {member_condition(table)}"
        async with database.connection.execute(sql, (user_id,)) as rows:
            row = await rows.fetchone()
        if row and row[0]:
            found.append(table)
    return found


@pytest.mark.parametrize("carry_on", CARRY_ON)
@pytest.mark.parametrize("moment", MOMENTS)
async def test_after_forget_no_missed_day_dm_reaches_the_admin_and_each_day_is_told_once(
    database: Store, moment: str, carry_on: str
) -> None:
    world = World(database)
    first = await world.a_week_offline()
    discord = DiscordFailingAtPart2({"5xx-at-part-2": "5xx", "killed-before-part-2": "kill"}.get(moment))
    if moment != "before-the-dm":
        with contextlib.suppress(Killed):
            await deliver(first, discord)
    dms_before = [sent for sent in discord.arrived if sent.in_dm]
    assert len(dms_before) == {"before-the-dm": 0, "after-the-dm": 2}.get(moment, 1)

    await first.privacy.forget(ADMIN)
    assert await rows_naming(database, ADMIN) == []

    world.now += LEASE + timedelta(minutes=11)  # a dead process's lease and a retry's wait are over
    process: Services = first if carry_on == "same-process" else await world.process()
    await deliver(process, discord)
    world.now += timedelta(days=1)  # a day missed after the forget: said in its channel
    assert await process.digests.missed.record(await process.digests.configs(), world.now) == 30
    for _ in range(3):
        await deliver(process, discord)
        world.now += timedelta(hours=2)

    assert [sent for sent in discord.arrived if sent.in_dm] == dms_before, "no DM after the forget"
    expected = await world.missed_days(first)
    seen = told(discord)
    assert {key for key in expected if seen[key] != 1} == set(), "each missed day told exactly once"
    assert set(seen) <= expected
    assert await rows_naming(database, ADMIN) == []
    assert not await first.repositories.notice_batches.has_work(
        owner="anyone", now=world.now + timedelta(days=2)
    )
