"""Delivering follow alerts and saved-paper updates: one grouped DM per member, each paper once.

The pending (member, paper) rows are claimed into a batch; the batch's messages are sent through a
``Messenger`` (Discord DMs in the bot) with the same resume algorithm as digests, so a restart
between a send and its record finds the part by its marker instead of sending it again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.domain.alerts import AlertItem, alert_marker, plan_alert
from bot.domain.delivery import alert_nonce
from bot.domain.digest import DigestMessage, messages_from_data, messages_to_data
from bot.domain.schedule import local_date, wall_clock
from bot.errors import PaperbotError, StorageUnavailable
from bot.services.delivery import Lease, LeaseLost, new_instance_id, send_remaining
from bot.services.papers import utcnow
from bot.storage.connection import Store
from bot.storage.follows import BatchRecord, FollowRepository, QueuedAlert
from bot.storage.papers import PaperRepository

log = logging.getLogger(__name__)


class RecipientUnreachable(PaperbotError):
    """Discord refused the member's DM (closed DMs: 50007, or another refusal): final until the
    member comes back."""


class PartRefused(RecipientUnreachable):
    """Discord refused one part itself, for good (a 4xx but 403/401/408/429: an invalid form body,
    an empty message): sent again it would be refused again. The member stays reachable (another
    DM may go through), so only that part's papers are given up."""


class _PartGivenUp(Exception):
    def __init__(self, part: int, refusal: PartRefused) -> None:
        super().__init__(str(refusal))
        self.part = part


class StopRequested(Exception):
    """The member removed a follow or paused alerts since the batch was opened: it goes no
    further (the part already on its way is still recorded)."""


class Messenger(Protocol):
    """Where alerts go (Discord DMs, in the running bot)."""

    async def is_member(self, guild_id: int, user_id: int) -> bool:
        """Whether the member is still in a server the bot is in."""

    async def find_parts(self, user_id: int, marker: str, *, since: datetime) -> dict[int, int]:
        """Parts of the batch with ``marker`` among the member's DMs after ``since``:
        part number -> message id."""

    async def send(self, user_id: int, message: DigestMessage, *, nonce: str) -> int:
        """Send one part; returns its message id. Raises RecipientUnreachable when the member cannot
        be reached, PartRefused when Discord refuses this part itself.
        ``nonce``: the same for the same part, so Discord keeps one message if it is sent twice."""


@dataclass(frozen=True, slots=True)
class AlertBatch:
    batch_id: int
    user_id: int
    messages: tuple[DigestMessage, ...]  # frozen at claim time
    paper_count: int
    created_at: datetime
    sent: dict[int, int] = field(default_factory=dict)  # parts recorded as delivered


def _delivered(batch: AlertBatch, sent: dict[int, int]) -> int:
    return sum(len(batch.messages[part - 1].papers) for part in sent if 1 <= part <= len(batch.messages))


class AlertService:
    def __init__(
        self,
        database: Store,
        repository: FollowRepository,
        papers: PaperRepository,
        *,
        clock: Callable[[], datetime] = utcnow,
        interval: float = 0.0,
        lease: Lease | None = None,
        start_at: float = 0.0,
    ) -> None:
        self.database = database
        self.repository = repository
        self._papers = papers
        self._clock = clock
        self.interval = interval  # seconds between two members' DMs
        self._sending = asyncio.Lock()
        self.lease = lease or Lease(new_instance_id())
        # Where in the list of due members this process starts (0 <= start_at < 1): processes
        # sharing the delivery start at different members, so they rarely race for the same one.
        self.start_at = start_at

    async def deliver(self, messenger: Messenger) -> int:
        """Send every due batch: interrupted ones first (without repeating what arrived), then new
        ones. Returns how many papers were delivered."""
        sent = 0
        async with self._sending:
            for batch in await self.interrupted():
                sent += await self._attempt(messenger, batch, resuming=True)
            due = await self.due_members()
            first = int(len(due) * self.start_at)
            for user_id in due[first:] + due[:first]:
                # Another process may have claimed them meanwhile: a read, before asking Discord.
                if not await self.repository.has_pending(user_id):
                    continue
                if not await self.still_shares_a_server(messenger, user_id):
                    continue
                claimed = await self.claim(user_id)
                if claimed is not None:
                    sent += await self._attempt(messenger, claimed, resuming=False)
                    if self.interval:
                        await asyncio.sleep(self.interval)
        return sent

    async def _attempt(self, messenger: Messenger, batch: AlertBatch, *, resuming: bool) -> int:
        """One member's batch; its failure (Discord down for that DM, a timeout) leaves the batch
        open for the next poll and never holds up the other members' alerts."""
        try:
            return await self._deliver(messenger, batch, resuming=resuming)
        except StorageUnavailable:
            raise  # the store is down for every member: the poll stops, and its job says so once
        except Exception:
            log.exception("alerts for %s interrupted; resumed on the next poll", batch.user_id)
            return 0

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
        """Open a batch of the member's pending alerts, its DM planned and frozen in the same
        transaction, leased to this process."""
        member = await self.repository.member(user_id)
        now = self._clock()
        if member is not None and member.paused_at(now):  # paused since the due list was read
            return None
        day = local_date(now, member.timezone) if member and member.mode == "daily" else None
        owner = self.lease.owner
        async with self.database.transaction():
            batch_id, alerts = await self.repository.open_batch(
                user_id, day, now, owner=owner, lease_until=self.lease.until(now)
            )
            if not alerts:  # e.g. the member was forgotten since has_pending: keep no row of theirs
                await self.repository.void_batch(batch_id)
                return None
            items = await self._items(alerts)
            # A member with a popular keyword can have thousands of papers queued after a big
            # ingest: laying them out (escaping, packing, the frozen plan's JSON) took the event
            # loop for seconds, so it runs in a worker thread.
            messages, plan = await asyncio.to_thread(_frozen_plan, batch_id, items)
            await self.repository.freeze_plan(batch_id, plan)
            if not items:  # its papers were deleted meanwhile: nothing to say
                await self.repository.close_batch(batch_id, now, owner=owner)
                return None
        return AlertBatch(batch_id, user_id, messages, len(items), created_at=now)

    async def _items(self, alerts: Sequence[QueuedAlert]) -> list[AlertItem]:
        """What the DM says about each queued paper (papers deleted meanwhile: nothing)."""
        stored = await self._papers.by_pks([a.paper_pk for a in alerts])
        return [
            AlertItem(str(a.paper_pk), stored[a.paper_pk].paper, a.keywords, a.changes)
            for a in alerts
            if a.paper_pk in stored
        ]

    async def interrupted(self) -> list[AlertBatch]:
        """Batches being sent whose process died (lease expired) or whose earlier attempt here
        failed part-way, now leased to this process: resumed after checking the DM channel."""
        now = self._clock()
        if not await self.repository.has_takeable_batches(owner=self.lease.owner, now=now):
            return []  # the common case, answered by a read: no write transaction every poll
        async with self.database.transaction():
            records = await self.repository.take_over_batches(
                owner=self.lease.owner, lease_until=self.lease.until(now), now=now
            )
        batches = []
        for record in records:
            batch = await self._resumable(record)
            if batch is None:
                async with self.database.transaction():
                    await self.repository.close_batch(record.batch_id, now, owner=self.lease.owner)
            else:
                batches.append(batch)
        return batches

    async def _resumable(self, record: BatchRecord) -> AlertBatch | None:
        if record.plan is not None:
            messages = messages_from_data(json.loads(record.plan))
        else:  # opened before plans were frozen: plan it now from its alerts
            items = await self._items(await self.repository.batch_alerts(record.batch_id))
            messages = plan_alert(record.batch_id, items) if items else ()
        if not messages:
            return None
        count = sum(len(m.papers) for m in messages)
        return AlertBatch(
            record.batch_id,
            record.user_id,
            messages,
            count,
            created_at=record.created_at,
            sent=record.parts_sent,
        )

    async def _deliver(self, messenger: Messenger, batch: AlertBatch, *, resuming: bool) -> int:
        """Send the batch's remaining parts, recording per part which message delivered which papers.

        A refusal (DMs closed, blocked) is definite: the batch is closed, what arrived stays sent,
        the rest waits for a later batch. Anything else (5xx, timeout) may or may not have
        delivered the part: the batch stays open and is resumed (marker and nonce tell)."""
        owner = self.lease.owner
        sent = dict(batch.sent)

        async def send(part: int, message: DigestMessage) -> int:
            async with self.database.transaction():
                held = await self.repository.renew_batch(
                    batch.batch_id, owner=owner, lease_until=self.lease.until(self._clock())
                )
                stop = held and await self._stop_requested(batch)
            if not held:
                raise _no_longer_ours(batch)
            if stop:
                raise StopRequested(f"alert batch {batch.batch_id}: its member removed a follow or paused")
            try:
                return await messenger.send(batch.user_id, message, nonce=alert_nonce(batch.batch_id, part))
            except PartRefused as exc:
                raise _PartGivenUp(part, exc) from None

        async def record(part: int, message_id: int) -> None:
            papers = [int(key) for key in batch.messages[part - 1].papers]
            async with self.database.transaction():
                held = await self.repository.record_part(
                    batch.batch_id,
                    part,
                    message_id,
                    papers,
                    owner=owner,
                    lease_until=self.lease.until(self._clock()),
                )
            if not held:
                raise _no_longer_ours(batch)

        async def find_sent() -> dict[int, int]:
            marker = alert_marker(batch.batch_id)
            return await messenger.find_parts(batch.user_id, marker, since=batch.created_at)

        try:
            await send_remaining(
                batch.messages, sent, send=send, record=record, find_sent=find_sent if resuming else None
            )
        except _PartGivenUp as refused:
            return await self._give_up_part(batch, refused, sent)
        except RecipientUnreachable as exc:
            # Any refusal (closed DMs, a block, missing access) holds until the member does
            # something: retried every poll, it would only pile up batches and refused requests.
            await self._close(batch, unreachable=True)
            log.info("alerts for %s not delivered (%s)", batch.user_id, exc)
            return _delivered(batch, sent)
        except LeaseLost as exc:
            log.warning("stopped sending: %s", exc)
            return _delivered(batch, sent)
        except StopRequested as exc:
            # What arrived stays sent; what the member still wants goes back to the queue, for a
            # new batch (new marker and nonces) that says it without the follows they dropped.
            await self._close(batch, unreachable=False, handing_on=True)
            log.info("stopped sending: %s", exc)
            return _delivered(batch, sent)
        except Exception:
            async with self.database.transaction():
                await self.repository.release_batch(batch.batch_id, self._clock(), owner=owner)
            raise
        await self._close(batch, unreachable=False)
        return _delivered(batch, sent)

    async def _give_up_part(self, batch: AlertBatch, refused: _PartGivenUp, sent: dict[int, int]) -> int:
        """Part k refused for good: its papers are dropped, once, and the batch closed; the parts
        after it (never sent) go back to the queue and out in the next poll's batch. Retried, the
        part was refused on every poll with a traceback while the rest never went out."""
        papers = [int(key) for key in batch.messages[refused.part - 1].papers]
        async with self.database.transaction():
            held = await self.repository.drop_refused(
                batch.batch_id, papers, owner=self.lease.owner, lease_until=self.lease.until(self._clock())
            )
            if held:
                await self.repository.hand_on_day(batch.batch_id)
                await self.repository.close_batch(batch.batch_id, self._clock(), owner=self.lease.owner)
        if not held:
            log.warning("stopped sending: %s", _no_longer_ours(batch))
        else:
            log.warning(
                "alerts for %s: Discord refused part %s of %s of alert batch %s for good (%s); "
                "its %s papers are not sent, the rest goes out in the next batch",
                batch.user_id,
                refused.part,
                len(batch.messages),
                batch.batch_id,
                refused,
                len(papers),
            )
        return _delivered(batch, sent)

    async def _stop_requested(self, batch: AlertBatch) -> bool:
        """The member removed a follow the batch's papers matched, or paused (read here too: on
        PostgreSQL a pause can commit while this batch was being opened, unseen by its flag)."""
        if await self.repository.stop_requested(batch.batch_id):
            return True
        member = await self.repository.member(batch.user_id)
        return member is not None and member.paused_at(self._clock())

    async def _close(self, batch: AlertBatch, *, unreachable: bool, handing_on: bool = False) -> None:
        """Close the batch; ``unreachable`` (Discord refused the DM): stop sending until the member
        returns. ``handing_on``: stopped at the member's request, its undelivered rest (if any)
        goes out in the next batch, which is then the member's daily DM of the day (not tomorrow's)."""
        async with self.database.transaction():
            if handing_on:
                await self.repository.hand_on_day(batch.batch_id)
            await self.repository.close_batch(batch.batch_id, self._clock(), owner=self.lease.owner)
            if unreachable:
                await self.repository.update_member(
                    batch.user_id, unreachable_since=self._clock().isoformat()
                )

    async def still_shares_a_server(self, messenger: Messenger, user_id: int) -> bool:
        """``shares_a_server``, where Discord failing to answer for one member (a 5xx, a timeout)
        skips that member this poll: it never holds up the other members' alerts (or weekly picks,
        which ask through this too)."""
        try:
            return await self.shares_a_server(messenger, user_id)
        except StorageUnavailable:
            raise  # the store itself is down: the whole pass stops (said once by the poll)
        except Exception as exc:
            log.warning(
                "could not ask Discord whether %s still shares a server (tried again later): %s: %s",
                user_id,
                type(exc).__name__,
                exc,
            )
            return False

    async def shares_a_server(self, messenger: Messenger, user_id: int) -> bool:
        """Alerts (and weekly picks) only go to members of a server the bot is in, asked of Discord
        for each server the member used the bot in; servers they left are forgotten."""
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


def _no_longer_ours(batch: AlertBatch) -> LeaseLost:
    return LeaseLost(
        f"alert batch {batch.batch_id} is no longer this process's to send "
        "(another process took it over, or its member asked to be forgotten)"
    )


def _frozen_plan(batch_id: int, items: Sequence[AlertItem]) -> tuple[tuple[DigestMessage, ...], str]:
    """The batch's DM parts and the JSON they are frozen as."""
    messages = plan_alert(batch_id, items)
    return messages, json.dumps(messages_to_data(messages))
