"""Telling the admin about a digest period that was not posted (bot/services/missed_digests.py
records those; a post that failed because the channel is gone or the permission was lost opens its
notice in ``DigestService``).

``DigestNotices`` tells the admin who set the digest up, once, with the alert DMs' machinery
(``delivery.send_remaining``): the notice is leased to one process, renewed before the send and
checked at the record, sent with a deterministic nonce, and a retry first reads the destination
for the notice's marker. Closed DMs (or nobody known) send it to the digest's channel instead, as
soon as the digest can post there again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Protocol

from bot.domain.delivery import notice_nonce
from bot.domain.digest import DigestMessage, EmbedSpec, pack_messages
from bot.domain.schedule import Cadence
from bot.services.alerts import Messenger, RecipientUnreachable
from bot.services.delivery import Lease, LeaseLost, new_instance_id, send_remaining
from bot.services.digest import DestinationGone
from bot.services.papers import utcnow
from bot.storage.connection import Store
from bot.storage.digest_notices import DigestNoticeRepository, Notice
from bot.storage.digests import DigestRepository

log = logging.getLogger(__name__)

# A notice that failed ambiguously (5xx, timeout) is tried again after 10, 20, 40 minutes; after the
# third failure a DM goes to the channel instead, and a channel post waits an hour between tries.
MAX_ATTEMPTS = 3
FIRST_RETRY = timedelta(minutes=10)
CHANNEL_WAIT = timedelta(hours=1)


class ChannelPoster(Protocol):
    """Posting in a digest's channel (``DigestService``'s Poster): raises DestinationGone."""

    async def find_parts(self, channel_id: int, marker: str, *, since: datetime) -> dict[int, int]: ...

    async def send(self, channel_id: int, message: DigestMessage, *, nonce: str) -> int: ...


def notice_marker(channel_id: int, post_day: date) -> str:
    """The footer's last words: which digest and period a notice is about (read back on a retry)."""
    return f"missed digest {channel_id} {post_day.isoformat()}"


def notice_message(notice: Notice, *, in_channel: bool, paused: bool) -> DigestMessage:
    period = (
        f"the week of {notice.post_day:%a %d %b %Y}"
        if notice.key.cadence is Cadence.WEEKLY
        else (f"{notice.post_day:%a %d %b %Y}")
    )
    where = "here" if in_channel else f"in <#{notice.key.channel_id}>"
    lines = [f"The digest for {period} was not posted {where}: {notice.reason.rstrip('.')}."]
    if paused:
        lines.append("The digest is paused until that is fixed: then `/digest resume`.")
    else:
        lines.append("The next one goes out at its time; `/digest show` lists the days missed.")
    if in_channel:
        lines.append("(Said here because the admin who set this digest up cannot be sent DMs.)")
    embed = EmbedSpec(title="📭 A digest was not posted", description="\n".join(lines))
    return pack_messages([embed], notice_marker(notice.key.channel_id, notice.post_day))[0]


class DigestNotices:
    """Tells the admin, once, about each period that was not posted."""

    def __init__(
        self,
        database: Store,
        notices: DigestNoticeRepository,
        digests: DigestRepository,
        *,
        clock: Callable[[], datetime] = utcnow,
        lease: Lease | None = None,
    ) -> None:
        self.database = database
        self._notices = notices
        self._digests = digests
        self._clock = clock
        self.lease = lease or Lease(new_instance_id())
        self._sending = asyncio.Lock()

    async def deliver(self, messenger: Messenger, poster: ChannelPoster) -> int:
        """Send every notice due (new, retry due, or left by a dead process); returns how many
        arrived."""
        now = self._clock()
        owner = self.lease.owner
        delivered = 0
        async with self._sending:
            if not await self._notices.has_takeable(owner=owner, now=now):
                return 0  # the common case, answered by a read
            async with self.database.transaction():
                taken = await self._notices.take_over(owner=owner, lease_until=self.lease.until(now), now=now)
            for notice in taken:
                try:
                    delivered += await self._deliver(messenger, poster, notice)
                except Exception as exc:
                    # 5xx, timeout: it may have arrived; the retry reads the destination first.
                    log.warning(
                        "notice of the missed digest %s %s not delivered yet (%s: %s); tried again later",
                        notice.key.channel_id,
                        notice.post_day,
                        type(exc).__name__,
                        exc,
                    )
                    await self._failed(notice)
        return delivered

    async def _deliver(self, messenger: Messenger, poster: ChannelPoster, notice: Notice) -> int:
        config = await self._digests.config(notice.key.guild_id, notice.key.channel_id)
        if config is None:  # the digest was removed: nobody to tell about it
            async with self.database.transaction():
                await self._notices.close(notice, "dropped", owner=self.lease.owner)
            return 0
        if notice.state == "dm":
            admin = await self._notices.admin(notice.key.guild_id, notice.key.channel_id)
            if admin is None:
                await self._redirect(notice)
                return 0
            message = notice_message(notice, in_channel=False, paused=config.paused)
            try:
                return await self._send(notice, message, admin, messenger, "told")
            except RecipientUnreachable:
                await self._redirect(notice)
                return 0
        if config.paused:  # the channel cannot be posted in now: said once the digest is resumed
            await self._later(notice, CHANNEL_WAIT, counted=False)
            return 0
        message = notice_message(notice, in_channel=True, paused=False)
        try:
            return await self._send(notice, message, notice.key.channel_id, poster, "said")
        except DestinationGone:
            await self._later(notice, CHANNEL_WAIT, counted=False)
            return 0

    async def _send(
        self, notice: Notice, message: DigestMessage, target: int, destination: ChannelPoster, done: str
    ) -> int:
        owner = self.lease.owner
        nonce = notice_nonce(notice.key.channel_id, notice.post_day, in_channel=done == "said")

        async def send(part: int, part_message: DigestMessage) -> int:
            async with self.database.transaction():
                held = await self._notices.renew(
                    notice, owner=owner, lease_until=self.lease.until(self._clock())
                )
            if not held:
                raise LeaseLost(f"the notice of {notice.post_day} is being sent by another process")
            return await destination.send(target, part_message, nonce=nonce)

        async def record(part: int, message_id: int) -> None:
            async with self.database.transaction():
                held = await self._notices.close(notice, done, owner=owner, message_id=message_id)
            if not held:
                raise LeaseLost(f"the notice of {notice.post_day} was taken over by another process")

        async def find_sent() -> dict[int, int]:
            marker = notice_marker(notice.key.channel_id, notice.post_day)
            return await destination.find_parts(target, marker, since=notice.created_at)

        try:
            await send_remaining(
                (message,), {}, send=send, record=record, find_sent=find_sent if notice.tries > 1 else None
            )
        except LeaseLost as exc:
            log.warning("stopped sending: %s", exc)
            return 0
        return 1

    async def _redirect(self, notice: Notice) -> None:
        async with self.database.transaction():
            await self._notices.redirect(notice, owner=self.lease.owner, now=self._clock())

    async def _later(self, notice: Notice, wait: timedelta, *, counted: bool) -> None:
        async with self.database.transaction():
            await self._notices.retry_later(
                notice, self._clock() + wait, owner=self.lease.owner, counted=counted
            )

    async def _failed(self, notice: Notice) -> None:
        attempts = notice.attempts + 1
        if notice.state == "dm" and attempts >= MAX_ATTEMPTS:
            await self._redirect(notice)
            return
        await self._later(notice, FIRST_RETRY * (1 << min(attempts - 1, 3)), counted=True)
