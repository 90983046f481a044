"""Forgetting a member keeps only what a DM being sent right now needs to finish exactly once."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.models import ListedPaper
from bot.services.papers import PaperService
from bot.storage.database import Database
from bot.storage.privacy import PrivacyRepository
from bot.storage.votes import VoteRepository


async def count(database: Database, sql: str) -> int:
    async with database.connection.execute(sql) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def test_an_in_flight_batch_keeps_its_alerts_and_nothing_else_stays(
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
            "INSERT INTO alert_batches (id, user_id, state, created_at) VALUES (2, 7, 'sending', 'x')"
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
    assert (forgotten.follows, forgotten.alerts, forgotten.kept_in_flight) == (1, 2, 1)
    assert await count(database, "SELECT count(*) FROM alerts WHERE user_id = 7 AND batch_id = 2") == 1
    assert await count(database, "SELECT count(*) FROM alert_batches WHERE user_id = 7") == 1
    # The weekly picks DM being sent stays (its delivery finishes once); last week's is gone.
    assert await count(database, "SELECT count(*) FROM weekly_picks_sends WHERE user_id = 7") == 1
    assert await count(database, "SELECT count(*) FROM weekly_picks_sends WHERE state = 'sending'") == 1
    assert await count(database, "SELECT count(*) FROM members WHERE user_id = 7 AND timezone = 'UTC'") == 1

    async with database.transaction():  # once that DM is done, forgetting again leaves nothing
        await database.connection.execute("UPDATE alert_batches SET state = 'sent' WHERE id = 2")
        again = await PrivacyRepository(database.connection).forget(7)
    assert again.kept_in_flight == 0
    assert await count(database, "SELECT count(*) FROM members WHERE user_id = 7") == 0


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
