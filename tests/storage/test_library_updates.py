"""The saved-paper update ledger: (member, paper, change) once, delivered with the member's alert
batch, requeued when a batch ends without delivering it, forgotten with the member."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.models import ListedPaper
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.database import Database
from bot.storage.follows import QueuedAlert

NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
ALICE = 1


@pytest.fixture
async def services(database: Database, sample_papers: list[ListedPaper]) -> Services:
    """Three stored papers and a member who can be sent DMs."""
    services = await Services.open(database, Settings(), clock=lambda: NOW)
    await services.papers.ingest(sample_papers[:3])
    async with database.transaction():
        await services.repositories.follows.ensure_member(ALICE, 10, NOW)
    return services


async def paper_pks(services: Services) -> list[int]:
    return sorted(s.pk for s in await services.papers.repository.recent(10_000))


async def test_a_change_is_queued_once_batched_with_alerts_and_requeued_if_not_delivered(
    database: Database, services: Services
) -> None:
    first, second, _ = await paper_pks(services)
    ledger = services.repositories.follows
    async with database.transaction():
        assert await ledger.queue_changes([(ALICE, first, "v2"), (ALICE, first, "code")], NOW) == 2
        assert await ledger.queue_changes([(ALICE, first, "v2")], NOW) == 0  # the same change: ignored
        await ledger.queue([(ALICE, first, ["robots"]), (ALICE, second, ["robots"])], NOW)
    assert await ledger.users_with_pending() == [ALICE]

    lease = NOW + timedelta(minutes=1)
    async with database.transaction():
        batch_id, queued = await ledger.open_batch(ALICE, None, NOW, owner="me", lease_until=lease)
    # One entry per paper: the follow it matched and what changed since it was saved.
    assert queued == [QueuedAlert(first, ("robots",), ("code", "v2")), QueuedAlert(second, ("robots",))]
    async with database.transaction():
        assert await ledger.record_part(batch_id, 1, 555, [second], owner="me", lease_until=lease)
        assert await ledger.close_batch(batch_id, NOW, owner="me")
    # The part that delivered the first paper never went out: its alert and changes wait again.
    assert await ledger.users_with_pending() == [ALICE]
    async with database.transaction():
        again, queued = await ledger.open_batch(ALICE, None, NOW, owner="me", lease_until=lease)
        assert queued == [QueuedAlert(first, ("robots",), ("code", "v2"))]
        assert await ledger.record_part(again, 1, 556, [first], owner="me", lease_until=lease)
        assert await ledger.close_batch(again, NOW, owner="me")
        assert await ledger.queue_changes([(ALICE, first, "v2"), (ALICE, first, "code")], NOW) == 0
    assert await ledger.users_with_pending() == []


async def test_forgetting_a_member_deletes_their_updates_also_one_being_sent(
    database: Database, services: Services
) -> None:
    first, second, _ = await paper_pks(services)
    async with database.transaction():
        ledger = services.repositories.follows
        await ledger.queue_changes([(ALICE, first, "v2")], NOW)
        await ledger.open_batch(ALICE, None, NOW, owner="other", lease_until=NOW + timedelta(minutes=1))
        await ledger.queue_changes([(ALICE, second, "code")], NOW)
        forgotten = await services.repositories.privacy.forget(ALICE)
    assert forgotten.alerts == 2 and forgotten.stopped_in_flight == 1
    async with database.connection.execute("SELECT paper_pk FROM library_updates") as cursor:
        assert [row[0] for row in await cursor.fetchall()] == []  # the DM being sent stops
