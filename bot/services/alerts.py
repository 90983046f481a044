"""Delivering follow alerts: one grouped DM per member, each paper once.

The pending (member, paper) rows are claimed into a batch; the batch's messages are sent through a
``Messenger`` (Discord DMs in the bot) with the same resume algorithm as digests, so a restart
between a send and its record finds the part by its marker instead of sending it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.domain.alerts import alert_marker, plan_alert
from bot.domain.digest import DigestMessage
from bot.domain.schedule import local_date, wall_clock
from bot.errors import PaperbotError
from bot.services.delivery import send_remaining
from bot.services.papers import utcnow
from bot.storage.database import Database
from bot.storage.follows import FollowRepository
from bot.storage.papers import PaperRepository

log = logging.getLogger(__name__)


class RecipientUnreachable(PaperbotError):
    """The member cannot be sent DMs (closed DMs: Discord 50007, or another refusal)."""

    def __init__(self, message: str, *, dms_closed: bool) -> None:
        super().__init__(message)
        self.dms_closed = dms_closed


class Messenger(Protocol):
    """Where alerts go (Discord DMs, in the running bot)."""

    async def is_member(self, guild_id: int, user_id: int) -> bool:
        """Whether the member is still in a server the bot is in."""

    async def find_parts(self, user_id: int, marker: str) -> dict[int, int]:
        """Parts of the batch with ``marker`` already in the member's DMs: part number -> message id."""

    async def send(self, user_id: int, message: DigestMessage) -> int:
        """Send one part; returns its message id. Raises RecipientUnreachable when refused."""


@dataclass(frozen=True, slots=True)
class AlertBatch:
    batch_id: int
    user_id: int
    messages: tuple[DigestMessage, ...]
    paper_count: int


class AlertService:
    def __init__(
        self,
        database: Database,
        repository: FollowRepository,
        papers: PaperRepository,
        *,
        clock: Callable[[], datetime] = utcnow,
        interval: float = 0.0,
    ) -> None:
        self.database = database
        self.repository = repository
        self._papers = papers
        self._clock = clock
        self.interval = interval  # seconds between two members' DMs
        self._sending = asyncio.Lock()

    async def deliver(self, messenger: Messenger) -> int:
        """Send every due batch: interrupted ones first (without repeating what arrived), then new
        ones. Returns how many papers were delivered."""
        sent = 0
        async with self._sending:
            for batch in await self.interrupted():
                sent += await self._deliver(messenger, batch, resuming=True)
            for user_id in await self.due_members():
                if not await self._shares_a_server(messenger, user_id):
                    continue
                claimed = await self.claim(user_id)
                if claimed is not None:
                    sent += await self._deliver(messenger, claimed, resuming=False)
                    if self.interval:
                        await asyncio.sleep(self.interval)
        return sent

    async def due_members(self) -> list[int]:
        """Members whose pending alerts should go out now (instant, or daily at their time)."""
        now = self._clock()
        users = await self.repository.users_with_pending()
        members = await self.repository.members(users)
        due = []
        for user in users:
            member = members.get(user)
            if member is None or member.paused_at(now) or member.unreachable_since:
                continue
            if member.mode == "daily":
                day = local_date(now, member.timezone)
                if now < wall_clock(
                    day, member.daily_time, member.timezone
                ) or await self.repository.daily_batch_sent(user, day):
                    continue
            due.append(user)
        return due

    async def claim(self, user_id: int) -> AlertBatch | None:
        member = await self.repository.member(user_id)
        now = self._clock()
        day = local_date(now, member.timezone) if member and member.mode == "daily" else None
        async with self.database.transaction():
            batch_id, alerts = await self.repository.open_batch(user_id, day, now)
        return await self._batch(batch_id, user_id) if alerts else None

    async def interrupted(self) -> list[AlertBatch]:
        """Batches a previous run began sending: resumed after checking the DM channel."""
        batches = []
        for batch_id, user_id in await self.repository.sending_batches():
            batch = await self._batch(batch_id, user_id)
            if batch is not None:
                batches.append(batch)
        return batches

    async def _batch(self, batch_id: int, user_id: int) -> AlertBatch | None:
        alerts = await self.repository.batch_alerts(batch_id)
        stored = await self._papers.by_pks([a.paper_pk for a in alerts])
        items = [(stored[a.paper_pk].paper, a.keywords) for a in alerts if a.paper_pk in stored]
        if not items:
            return None
        return AlertBatch(batch_id, user_id, plan_alert(batch_id, items), len(items))

    async def _deliver(self, messenger: Messenger, batch: AlertBatch, *, resuming: bool) -> int:
        sent: dict[int, int] = {}

        async def send(_: int, message: DigestMessage) -> int:
            return await messenger.send(batch.user_id, message)

        async def record(_: int, __: int) -> None:
            return None

        async def find_sent() -> dict[int, int]:
            return await messenger.find_parts(batch.user_id, alert_marker(batch.batch_id))

        try:
            await send_remaining(
                batch.messages, sent, send=send, record=record, find_sent=find_sent if resuming else None
            )
        except RecipientUnreachable as exc:
            await self.undeliverable(batch, dms_closed=exc.dms_closed)
            log.info("alerts for %s not delivered (%s)", batch.user_id, exc)
            return 0
        except Exception:
            await self.undeliverable(batch, dms_closed=False)
            raise
        await self.delivered(batch, [sent[p] for p in sorted(sent)])
        return batch.paper_count

    async def delivered(self, batch: AlertBatch, message_ids: Sequence[int]) -> None:
        async with self.database.transaction():
            await self.repository.finish_batch(batch.batch_id, message_ids, self._clock())

    async def undeliverable(self, batch: AlertBatch, *, dms_closed: bool) -> None:
        """Put the alerts back in the queue; with DMs closed, stop sending until the member returns."""
        async with self.database.transaction():
            await self.repository.reopen_batch(batch.batch_id)
            if dms_closed:
                await self.repository.update_member(
                    batch.user_id, unreachable_since=self._clock().isoformat()
                )

    async def _shares_a_server(self, messenger: Messenger, user_id: int) -> bool:
        """Alerts only go to members of a server the bot is in; servers they left are forgotten."""
        for guild_id in await self.repository.member_guilds(user_id):
            if await messenger.is_member(guild_id, user_id):
                return True
            if await self.left_guild(user_id, guild_id):
                log.info("member %s shares no server any more: alerts stopped", user_id)
                return False
        return False

    async def left_guild(self, user_id: int, guild_id: int) -> bool:
        """Forget a server the member left; True when no shared server remains (alerts stop)."""
        async with self.database.transaction():
            await self.repository.forget_guild(user_id, guild_id)
            if await self.repository.member_guilds(user_id):
                return False
            await self.repository.drop_pending(user_id)
        return True
