"""A member with a popular keyword can have thousands of papers queued after a big ingest; laying
out their DM must not hold the bot's event loop (it took it for 2.75 s in `bench load` with a
CLI ingest), and the DM they get is the same."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from bot.domain.alerts import AlertItem, plan_alert
from bot.domain.digest import DigestMessage
from bot.domain.models import ListedPaper
from bot.services import alerts as alert_service
from bot.storage.database import Database
from tests.services.test_alert_sharing import GUILD, Messenger, process


async def test_a_dm_is_planned_in_a_worker_thread(
    database: Database, sample_papers: list[ListedPaper], monkeypatch: pytest.MonkeyPatch
) -> None:
    services = await process(database, "0-5")
    await services.follows.add(101, GUILD, "model")
    await services.papers.ingest(sample_papers)
    planned_on: list[int] = []
    planned: list[tuple[DigestMessage, ...]] = []

    def planning(batch_id: int, items: Sequence[AlertItem]) -> tuple[DigestMessage, ...]:
        planned_on.append(threading.get_ident())
        planned.append(plan_alert(batch_id, items))
        return planned[-1]

    monkeypatch.setattr(alert_service, "plan_alert", planning)
    messenger = Messenger()
    delivered = await services.alerts.deliver(messenger)

    assert delivered > 0 and messenger.sent[101] == len(planned[0])
    assert planned_on and threading.get_ident() not in planned_on
