"""Telling admins about digest periods that were not posted (bot/services/missed_digests.py
records those; a post that failed because the channel is gone or the permission was lost opens its
notice in ``DigestService``).

Grouped: every notice waiting for one admin goes out as one DM listing each digest and day
(bot/domain/missed_notices.py lays it out; as few messages as Discord's limits need), not one
message per day: a week offline with 10 digests was 70 DMs. Closed DMs (or nobody known) say it
in the digest's channel instead, one post per channel, as soon as the digest can post there again.

Exactly once, with the alert DMs' machinery (``delivery.send_remaining``): a batch takes its
notices and freezes its messages in one transaction (a notice is in one open batch at most), is
leased to one process, renewed before each part and checked at each record; each part carries a
nonce of (batch, part), and a retry first reads the destination for the batch's marker. A notice
recorded after the plan (a new missed day) waits for the next batch; a part Discord refused (DMs
closed meanwhile) hands the notices it did not tell to the channel.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.domain.delivery import notice_nonce
from bot.domain.digest import DigestMessage, messages_from_data, messages_to_data
from bot.domain.missed_notices import MissedNotice, notices_marker, plan_notices
from bot.domain.schedule import LedgerKey
from bot.errors import StorageUnavailable
from bot.services.alerts import RecipientUnreachable
from bot.services.delivery import Lease, LeaseLost, new_instance_id, send_remaining
from bot.services.digest import DestinationGone
from bot.services.papers import utcnow
from bot.storage.connection import Store
from bot.storage.digests import DigestRepository
from bot.storage.notice_batches import NoticeBatchRecord, NoticeBatchRepository, WaitingNotice

log = logging.getLogger(__name__)

# A batch that failed ambiguously (5xx, timeout) is tried again after 10, 20, 40 minutes; after the
# third failure a DM goes to the channel instead, and a channel post waits an hour between tries.
MAX_ATTEMPTS = 3
FIRST_RETRY = timedelta(minutes=10)
CHANNEL_WAIT = timedelta(hours=1)

DM, CHANNEL = "dm", "channel"
TOLD = {DM: "told", CHANNEL: "said"}


class Destination(Protocol):
    """A DM (``Messenger``: the target is the admin) or a channel (``Poster``: the digest's channel)."""

    async def find_parts(self, target: int, marker: str, *, since: datetime) -> dict[int, int]: ...

    async def send(self, target: int, message: DigestMessage, *, nonce: str) -> int: ...


ServerName = Callable[[int], str | None]


@dataclass(frozen=True, slots=True)
class NoticeBatch:
    batch_id: int
    target: str  # dm | channel
    target_id: int
    guild_id: int
    messages: tuple[DigestMessage, ...]  # frozen when the batch was opened
    created_at: datetime
    resuming: bool  # taken before: a part may have arrived unrecorded (read the destination first)
    attempts: int = 0
    sent: dict[int, int] = field(default_factory=dict)


def _told(batch: NoticeBatch, sent: dict[int, int]) -> int:
    return sum(len(batch.messages[part - 1].papers) for part in sent if 1 <= part <= len(batch.messages))


class DigestNotices:
    """Tells each admin, once, in one grouped message, about every period not posted."""

    def __init__(
        self,
        database: Store,
        batches: NoticeBatchRepository,
        digests: DigestRepository,
        *,
        clock: Callable[[], datetime] = utcnow,
        lease: Lease | None = None,
    ) -> None:
        self.database = database
        self._batches = batches
        self._digests = digests
        self._clock = clock
        self.lease = lease or Lease(new_instance_id())
        self._sending = asyncio.Lock()

    async def deliver(
        self, messenger: Destination, poster: Destination, server_name: ServerName = lambda guild_id: None
    ) -> int:
        """Resume the batches due (a retry, a dead process's), then group and send every notice
        waiting; returns how many notices (periods) were told. ``server_name``: a server's name as
        the admin knows it (None when unknown: the channel's mention stands alone)."""
        told = 0
        async with self._sending:
            if not await self._batches.has_work(owner=self.lease.owner, now=self._clock()):
                return 0  # the common case, answered by a read
            for batch in await self._due_batches():
                told += await self._attempt(batch, messenger, poster)
            for batch in await self._open_batches(server_name):
                told += await self._attempt(batch, messenger, poster)
        return told

    # ---- planning ------------------------------------------------------------------------------

    async def _open_batches(self, server_name: ServerName) -> list[NoticeBatch]:
        now = self._clock()
        waiting = await self._batches.waiting(now)
        if not waiting:
            return []
        dropped = [w.notice.token for w in waiting if not w.configured or w.posted]
        live = [w for w in waiting if w.configured and not w.posted]
        paused_channels = [w.notice.token for w in live if _target(w)[0] == CHANNEL and w.paused]
        groups: dict[tuple[str, int, int], list[WaitingNotice]] = {}
        for waiting_notice in live:
            target = _target(waiting_notice)
            if target[0] == CHANNEL and waiting_notice.paused:
                continue  # the channel cannot be posted in now: said once the digest is resumed
            groups.setdefault(target, []).append(waiting_notice)
        if dropped or paused_channels:
            async with self.database.transaction():
                await self._batches.drop(dropped)
                await self._batches.defer(paused_channels, now + CHANNEL_WAIT)
        paused = {w.notice.key for w in live if w.paused}
        opened = []
        for (kind, target_id, guild_id), notices in groups.items():
            batch = await self._open(
                kind, target_id, guild_id, [w.notice.token for w in notices], server_name, paused
            )
            if batch is not None:
                opened.append(batch)
        return opened

    async def _open(
        self,
        target: str,
        target_id: int,
        guild_id: int,
        tokens: Sequence[str],
        server_name: ServerName,
        paused: set[LedgerKey],
    ) -> NoticeBatch | None:
        now = self._clock()
        async with self.database.transaction():
            batch_id, notices = await self._batches.open_batch(
                target,
                target_id,
                guild_id,
                tokens,
                now=now,
                owner=self.lease.owner,
                lease_until=self.lease.until(now),
            )
            if not notices:  # another process took them this instant: it tells them
                await self._batches.void(batch_id)
                return None
            messages = _plan(batch_id, notices, target, server_name, paused)
            await self._batches.freeze(batch_id, messages_to_data(messages))
        return NoticeBatch(batch_id, target, target_id, guild_id, messages, now, resuming=False)

    async def _due_batches(self) -> list[NoticeBatch]:
        now = self._clock()
        async with self.database.transaction():
            records = await self._batches.take_over(
                owner=self.lease.owner, lease_until=self.lease.until(now), now=now
            )
        return [_resumed(record) for record in records]

    # ---- sending -------------------------------------------------------------------------------

    async def _attempt(self, batch: NoticeBatch, messenger: Destination, poster: Destination) -> int:
        """One batch; its failure (Discord down, a timeout) leaves it for a later try and never
        holds up the other admins' notices."""
        if batch.target == CHANNEL:
            config = await self._digests.config(batch.guild_id, batch.target_id)
            if config is None:  # the digest was removed: nobody to tell in its channel
                await self._hand_back(batch, rest="dropped")
                return 0
            if config.paused:  # the channel cannot be posted in now: said once it is resumed
                await self._release(batch, self._clock() + CHANNEL_WAIT, counted=False)
                return 0
        destination = messenger if batch.target == DM else poster
        sent = dict(batch.sent)
        try:
            await self._send(batch, destination, sent)
        except LeaseLost as exc:
            log.warning("stopped sending: %s", exc)
        except RecipientUnreachable as exc:
            # Any refusal of the DM holds until the admin changes something: the channel hears it.
            log.info(
                "missed-digest notice #%s not delivered by DM (%s): said in the channel", batch.batch_id, exc
            )
            await self._hand_back(batch, rest=CHANNEL)
        except DestinationGone as exc:
            log.info("missed-digest notice #%s not said in the channel yet (%s)", batch.batch_id, exc)
            await self._release(batch, self._clock() + CHANNEL_WAIT, counted=False)
        except StorageUnavailable:
            raise  # the store is down for every notice: the run stops, and its job says so once
        except Exception as exc:
            # 5xx, timeout: it may have arrived; the retry reads the destination first.
            log.warning(
                "missed-digest notice #%s not delivered yet (%s: %s); tried again later",
                batch.batch_id,
                type(exc).__name__,
                exc,
            )
            await self._failed(batch, destination, sent)
        else:
            async with self.database.transaction():
                await self._batches.close(batch.batch_id, told=TOLD[batch.target], owner=self.lease.owner)
        return _told(batch, {p: m for p, m in sent.items() if p not in batch.sent})

    async def _send(self, batch: NoticeBatch, destination: Destination, sent: dict[int, int]) -> None:
        owner = self.lease.owner

        async def send(part: int, message: DigestMessage) -> int:
            async with self.database.transaction():
                held = await self._batches.renew(
                    batch.batch_id, owner=owner, lease_until=self.lease.until(self._clock())
                )
            if not held:
                raise LeaseLost(f"missed-digest notice #{batch.batch_id} is being sent by another process")
            return await destination.send(batch.target_id, message, nonce=notice_nonce(batch.batch_id, part))

        async def record(part: int, message_id: int) -> None:
            if not await self._record(batch, part, message_id):
                raise LeaseLost(f"missed-digest notice #{batch.batch_id} was taken over by another process")

        async def find_sent() -> dict[int, int]:
            marker = notices_marker(batch.batch_id)
            return await destination.find_parts(batch.target_id, marker, since=batch.created_at)

        await send_remaining(
            batch.messages, sent, send=send, record=record, find_sent=find_sent if batch.resuming else None
        )

    async def _failed(self, batch: NoticeBatch, destination: Destination, sent: dict[int, int]) -> None:
        attempts = batch.attempts + 1
        if batch.target == DM and attempts >= MAX_ATTEMPTS:
            # Three ambiguous failures: what arrived is recorded (read back), the rest goes to the channel.
            try:
                found = await destination.find_parts(
                    batch.target_id, notices_marker(batch.batch_id), since=batch.created_at
                )
                for part, message_id in sorted(found.items()):
                    if part not in sent and 1 <= part <= len(batch.messages):
                        sent[part] = message_id
                        await self._record(batch, part, message_id)
            except Exception as exc:  # the DMs cannot even be read: the next try reads them again
                log.warning("missed-digest notice #%s: DMs not readable (%s)", batch.batch_id, exc)
                await self._release(batch, self._clock() + FIRST_RETRY, counted=False)
                return
            await self._hand_back(batch, rest=CHANNEL)
            return
        await self._release(batch, self._clock() + FIRST_RETRY * (1 << min(attempts - 1, 3)), counted=True)

    async def _record(self, batch: NoticeBatch, part: int, message_id: int) -> bool:
        """The part arrived: the notices it names are told. False when the lease was lost."""
        async with self.database.transaction():
            return await self._batches.record_part(
                batch.batch_id,
                part,
                message_id,
                batch.messages[part - 1].papers,
                told=TOLD[batch.target],
                owner=self.lease.owner,
                lease_until=self.lease.until(self._clock()),
            )

    async def _hand_back(self, batch: NoticeBatch, *, rest: str) -> None:
        async with self.database.transaction():
            await self._batches.hand_back(
                batch.batch_id, rest=rest, owner=self.lease.owner, now=self._clock()
            )

    async def _release(self, batch: NoticeBatch, retry_at: datetime, *, counted: bool) -> None:
        async with self.database.transaction():
            await self._batches.release(
                batch.batch_id, owner=self.lease.owner, retry_at=retry_at, counted=counted
            )


def _target(waiting: WaitingNotice) -> tuple[str, int, int]:
    """Who hears about a notice: its admin by DM, or (DMs refused, nobody known) its channel."""
    key = waiting.notice.key
    if waiting.state == DM and waiting.admin is not None:
        return (DM, waiting.admin, 0)
    return (CHANNEL, key.channel_id, key.guild_id)


def _plan(
    batch_id: int,
    notices: Sequence[MissedNotice],
    target: str,
    server_name: ServerName,
    paused: set[LedgerKey],
) -> tuple[DigestMessage, ...]:
    return plan_notices(
        batch_id,
        notices,
        in_channel=target == CHANNEL,
        server_name=server_name,
        paused=lambda key: key in paused,
    )


def _resumed(record: NoticeBatchRecord) -> NoticeBatch:
    return NoticeBatch(
        record.batch_id,
        record.target,
        record.target_id,
        record.guild_id,
        messages_from_data(json.loads(record.plan)),
        record.created_at,
        resuming=record.tries > 1,
        attempts=record.attempts,
        sent=record.parts_sent,
    )
