"""Several sharded processes delivering alert DMs from one database: they start at different
members, and one never asks Discord about a member another has just claimed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.domain.digest import DigestMessage
from bot.domain.models import ListedPaper
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.database import Database
from tests.conftest import FIXED_NOW

GUILD = 77


class Messenger:
    """Every member is in the server; ``on_first_check`` runs while the first check is pending."""

    def __init__(self, on_first_check: Callable[[], Awaitable[object]] | None = None) -> None:
        self.checked: list[int] = []
        self.sent: Counter[int] = Counter()
        self._on_first_check = on_first_check

    async def is_member(self, guild_id: int, user_id: int) -> bool:
        self.checked.append(user_id)
        if self._on_first_check is not None:
            hook, self._on_first_check = self._on_first_check, None
            await hook()
        return True

    async def find_parts(self, user_id: int, marker: str, *, since: datetime) -> dict[int, int]:
        return {}

    async def send(self, user_id: int, message: DigestMessage, *, nonce: str) -> int:
        self.sent[user_id] += 1
        return sum(self.sent.values())


async def process(database: Database, shards: str) -> Services:
    settings = Settings(shard_count=6, shards=shards, follows={"dm_interval_seconds": 0})
    return await Services.open(database, settings, clock=lambda: FIXED_NOW)


async def test_a_second_process_starts_elsewhere_and_skips_members_claimed_meanwhile(
    database: Database, sample_papers: list[ListedPaper]
) -> None:
    first, second = await process(database, "0-1"), await process(database, "3-5")
    members = [101, 102, 103, 104]
    for member in members:
        await first.follows.add(member, GUILD, "model")
    await first.papers.ingest(sample_papers)  # queues every member's matches
    assert await first.alerts.due_members() == members

    first_messenger = Messenger()
    # The second process has listed the due members; while it checks its first one with Discord,
    # the first process delivers everyone's alerts.
    second_messenger = Messenger(lambda: first.alerts.deliver(first_messenger))
    await second.alerts.deliver(second_messenger)

    assert second.alerts.start_at == 0.5 and first.alerts.start_at == 0.0
    assert second_messenger.checked == [103]  # it started half-way down the list
    # 103 was its own claim to make (the first process may have sent it already: then nothing is
    # left to claim); the rest it skipped without asking Discord, and nobody got a DM twice.
    assert set(first_messenger.sent) | set(second_messenger.sent) == set(members)
    assert not set(first_messenger.sent) & set(second_messenger.sent)
    assert first_messenger.checked == members


class ServerDown(Messenger):
    """Discord fails to answer whether ``member`` is in the server (a 5xx)."""

    def __init__(self, member: int) -> None:
        super().__init__()
        self.member = member

    async def is_member(self, guild_id: int, user_id: int) -> bool:
        if user_id == self.member:
            raise RuntimeError("503 Service Unavailable")
        return await super().is_member(guild_id, user_id)


async def test_discord_failing_to_say_whether_one_member_shares_a_server_holds_up_no_other(
    database: Database, sample_papers: list[ListedPaper]
) -> None:
    """The members after that one get their alerts in the same poll (the poll stopped there, and
    with a server that kept failing, every poll did); that member's come on a later poll."""
    services = await process(database, "0-5")
    members = [101, 102, 103]
    for member in members:
        await services.follows.add(member, GUILD, "model")
    await services.papers.ingest(sample_papers)
    messenger = ServerDown(102)
    await services.alerts.deliver(messenger)
    assert set(messenger.sent) == {101, 103}
    healed = Messenger()
    await services.alerts.deliver(healed)
    assert set(healed.sent) == {102}
