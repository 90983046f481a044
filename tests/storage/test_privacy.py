"""Forgetting a member leaves no row of theirs, and a DM being sent to them stops (nothing more of it)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.about import MEMBER_TABLES
from bot.domain.models import ListedPaper
from bot.services.papers import PaperService
from bot.storage.database import Database
from bot.storage.privacy import PrivacyRepository
from bot.storage.votes import VoteRepository
from tests.member_tables import member_condition


async def count(database: Database, sql: str) -> int:
    async with database.connection.execute(sql) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def test_forgetting_leaves_no_row_of_the_member_and_ends_a_batch_being_sent(
    database: Database, service: PaperService, sample_papers: list[ListedPaper]
) -> None:
    await service.ingest(sample_papers[:3])
    async with database.transaction() as db:
        await db.execute(
            "INSERT INTO members (user_id, mode, timezone, created_at) VALUES (7, 'daily', 'Asia/Tokyo', 'x')"
        )
        await db.execute(
            "INSERT INTO follows (user_id, keyword, canonical, created_at) VALUES (7, 'a', 'a', 'x')"
        )
        await db.execute(
            "INSERT INTO alert_batches (id, user_id, state, created_at) VALUES (1, 7, 'sent', 'x')"
        )
        await db.execute(
            "INSERT INTO alert_batches (id, user_id, state, created_at, owner, lease_until) "
            "VALUES (2, 7, 'sending', 'x', 'other', '2999-01-01T00:00:00+00:00')"
        )
        await db.execute(
            "INSERT INTO alerts (user_id, paper_pk, keywords, state, batch_id, created_at) VALUES "
            "(7, 1, '[]', 'sent', 1, 'x'), (7, 2, '[]', 'sending', 2, 'x'), "
            "(7, 3, '[]', 'pending', NULL, 'x')"
        )
        await db.execute(
            "INSERT INTO weekly_picks_sends (user_id, week, state, plan, created_at, retry_at) VALUES "
            "(7, '2026-W30', 'sent', '[]', 'x', 'x'), (7, '2026-W31', 'sending', '[]', 'x', 'x')"
        )
        forgotten = await PrivacyRepository(database.connection).forget(7)
    assert (forgotten.follows, forgotten.alerts, forgotten.stopped_in_flight) == (1, 3, 2)
    for table in MEMBER_TABLES:
        condition = member_condition(table).replace("?", "7")
        assert await count(database, f"SELECT count(*) FROM {table} WHERE {condition}") == 0, table
    # The batch ids stay taken (they are in DM markers and nonces), with nothing left to send.
    assert await count(database, "SELECT count(*) FROM alert_batches WHERE state = 'sending'") == 0
    assert await count(database, "SELECT max(id) FROM alert_batches") == 2


async def test_forgetting_a_member_takes_back_their_votes_in_every_server(
    database: Database, service: PaperService, sample_papers: list[ListedPaper]
) -> None:
    await service.ingest(sample_papers[:2])
    votes = VoteRepository(database.connection)
    async with database.transaction():
        for guild, paper, user in ((10, 1, 7), (20, 1, 7), (10, 1, 8), (10, 2, 7)):
            await votes.toggle(guild, paper, user, datetime(2026, 1, 1, tzinfo=UTC))
        await PrivacyRepository(database.connection).forget(7)
    assert await votes.count(10, 1) == 1 and await votes.count(20, 1) == 0 and await votes.count(10, 2) == 0
