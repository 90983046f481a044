"""Weekly picks DMs with several processes, on both backends: two processes (each its own store
connection) asking for every due member's picks at the same moment claim each member's week exactly
once between them, so each member gets one DM that week, never two, and none is left out."""

from __future__ import annotations

import asyncio

from bot.services.container import Services
from bot.settings import Settings
from tests.backends import Opener
from tests.conftest import FIXED_NOW

MEMBERS = range(1, 41)


async def test_two_processes_claim_each_members_week_once(store_at: tuple[Opener, str]) -> None:
    open_store, _ = store_at
    stores = [await open_store(), await open_store()]
    try:
        one, two = [
            await Services.open(store, Settings(), clock=lambda: FIXED_NOW, warm=False) for store in stores
        ]
        for member in MEMBERS:
            await one.library.set_weekly(member, True)
        assert await two.library.weekly_due() == list(MEMBERS)

        # Both processes' hourly runs at once: every due member asked for by both.
        due = await asyncio.gather(one.library.weekly_due(), two.library.weekly_due())
        claims = await asyncio.gather(
            *(process.library.claim_weekly(member) for member in MEMBERS for process in (one, two))
        )
        sent = [
            member
            for member, picks in zip([m for m in MEMBERS for _ in (one, two)], claims, strict=True)
            if picks is not None
        ]

        assert due == [list(MEMBERS), list(MEMBERS)]
        assert sorted(sent) == list(MEMBERS)  # each member once: none twice, none left out
        assert await one.library.weekly_due() == [] and await two.library.weekly_due() == []
    finally:
        for store in stores:
            await store.close()
