"""Weekly picks DMs (/library digest on), delivered exactly once with the alert DMs' machinery.

Each member's week is claimed by one conditional UPDATE (``library_settings.last_week``) and, in
the same transaction, its DM is frozen and leased to this process (``weekly_picks_sends``). The DM
then goes through ``delivery.send_remaining`` as an alert part does: the lease is renewed before
the send and checked at the record, the send carries a deterministic nonce, and a resume reads
the member's DMs for the week's marker first. So a DM that failed is retried later (bounded
attempts, backed off), a process killed after the send but before the record does not send it
again, and a second process never sends it at the same time. A refusal (closed DMs, any 403) is
recorded and not retried that week.

A member's week is only claimed once Discord confirms they still share a server with the bot, the
rule alert DMs follow (``AlertService.shares_a_server``): a member who left every such server is
not sent a DM Discord would refuse every week, and their week stays unclaimed, so they get it once
they are back and use the bot in a server again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.domain.delivery import PicksState, picks_nonce
from bot.domain.digest import DigestMessage, messages_from_data, messages_to_data
from bot.domain.picks import picks_marker, plan_weekly_picks
from bot.errors import StorageUnavailable
from bot.services.alerts import Messenger, RecipientUnreachable
from bot.services.delivery import Lease, LeaseLost, new_instance_id, send_remaining
from bot.services.library import LibraryService, iso_week
from bot.services.papers import utcnow
from bot.storage.connection import Store
from bot.storage.library import LibraryRepository, PicksSend

log = logging.getLogger(__name__)

# Whether the member still shares a server with the bot (asked of Discord through the messenger;
# False for this run when Discord cannot say: one member's check never holds up the others').
Reach = Callable[[Messenger, int], Awaitable[bool]]

# A failed DM (Discord 5xx, a timeout) is tried again after 10, 20, 40, 80 minutes: five attempts
# over about 2.5 hours ride out an outage without asking Discord every few seconds.
MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=10)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed send."""
    return FIRST_RETRY * (1 << (attempts - 1))


class WeeklyPicks:
    def __init__(
        self,
        database: Store,
        repository: LibraryRepository,
        library: LibraryService,
        *,
        reach: Reach,
        clock: Callable[[], datetime] = utcnow,
        lease: Lease | None = None,
    ) -> None:
        self.database = database
        self.repository = repository
        self.library = library
        self._reach = reach
        self._clock = clock
        self.lease = lease or Lease(new_instance_id())
        self._sending = asyncio.Lock()

    async def deliver(self, messenger: Messenger) -> int:
        """Retry the DMs due again (interrupted or failed), then open and send this week's for every
        member due; returns how many DMs were delivered."""
        delivered = 0
        async with self._sending:
            for resumed in await self.interrupted():
                delivered += await self._attempt(messenger, resumed, resuming=True)
            for user_id in await self.library.weekly_due():
                if not await self._reach(messenger, user_id):
                    continue  # left every server the bot is in: Discord would refuse the DM
                claimed = await self.claim(user_id)
                if claimed is not None:
                    delivered += await self._attempt(messenger, claimed, resuming=False)
        return delivered

    async def claim(self, user_id: int) -> PicksSend | None:
        """Claim the member's week and open its DM, frozen and leased here; None when the week was
        claimed already (another process, an earlier run) or there is nothing to pick."""
        now = self._clock()
        week = iso_week(now)
        picks = await self.library.picks(user_id)
        plan = json.dumps(messages_to_data((plan_weekly_picks(week, [(p.paper, p.like) for p in picks]),)))
        async with self.database.transaction():
            if not await self.repository.claim_week(user_id, week):
                return None
            if not picks:
                return None  # a week with nothing close to what they saved: claimed, nothing to send
            owner = self.lease.owner
            await self.repository.open_picks_send(
                user_id, week, plan, now, owner=owner, lease_until=self.lease.until(now)
            )
        return PicksSend(user_id, week, plan, now, attempts=0)

    async def interrupted(self) -> list[PicksSend]:
        """Open DMs whose process died (lease run out) or whose retry is due, now leased here."""
        now = self._clock()
        owner = self.lease.owner
        if not await self.repository.has_takeable_picks(owner=owner, now=now):
            return []  # the common case, answered by a read: no write transaction every run
        async with self.database.transaction():
            return await self.repository.take_over_picks(
                owner=owner, lease_until=self.lease.until(now), now=now
            )

    async def _attempt(self, messenger: Messenger, send: PicksSend, *, resuming: bool) -> int:
        """One member's DM; its failure never holds up the other members' DMs."""
        try:
            return await self._deliver(messenger, send, resuming=resuming)
        except StorageUnavailable:
            raise  # the store is down for every member: the run stops, and its job says so once
        except Exception:
            log.exception("weekly picks for %s interrupted; tried again later", send.user_id)
            return 0

    async def _deliver(self, messenger: Messenger, send: PicksSend, *, resuming: bool) -> int:
        owner = self.lease.owner
        messages: tuple[DigestMessage, ...] = messages_from_data(json.loads(send.plan))
        week_monday = datetime.strptime(f"{send.week}-1", "%G-W%V-%u").date()

        async def send_part(part: int, message: DigestMessage) -> int:
            async with self.database.transaction():
                held = await self.repository.renew_picks(
                    send.user_id, send.week, owner=owner, lease_until=self.lease.until(self._clock())
                )
            if not held:
                raise LeaseLost(f"weekly picks of {send.user_id} are being sent by another process")
            nonce = picks_nonce(send.user_id, week_monday, send.plan)
            return await messenger.send(send.user_id, message, nonce=nonce)

        async def record(part: int, message_id: int) -> None:
            async with self.database.transaction():
                held = await self.repository.close_picks(
                    send.user_id, send.week, PicksState.SENT, owner=owner, message_id=message_id
                )
            if not held:
                raise LeaseLost(f"weekly picks of {send.user_id} were taken over by another process")

        async def find_sent() -> dict[int, int]:
            return await messenger.find_parts(send.user_id, picks_marker(send.week), since=send.created_at)

        try:
            await send_remaining(
                messages, {}, send=send_part, record=record, find_sent=find_sent if resuming else None
            )
        except RecipientUnreachable as exc:
            # Definite: retried every run it would only pile up refused requests (Discord counts
            # them against the bot). Next week's DM is tried afresh.
            async with self.database.transaction():
                await self.repository.close_picks(
                    send.user_id, send.week, PicksState.UNREACHABLE, owner=owner
                )
            log.info("weekly picks for %s not delivered (%s)", send.user_id, exc)
            return 0
        except LeaseLost as exc:
            log.warning("stopped sending: %s", exc)
            return 0
        except Exception:
            await self._retry_later(send)
            raise
        return 1

    async def _retry_later(self, send: PicksSend) -> None:
        """An ambiguous failure (5xx, timeout: the DM may have arrived): back off, and after the
        last attempt give the week up (recorded, never retried again)."""
        owner = self.lease.owner
        async with self.database.transaction():
            attempts = send.attempts + 1
            retry_at = self._clock() + retry_delay(attempts)
            counted = await self.repository.retry_picks_later(send.user_id, send.week, retry_at, owner=owner)
            if counted >= MAX_ATTEMPTS:
                await self.repository.close_picks(send.user_id, send.week, PicksState.GAVE_UP, owner=owner)
                log.warning("weekly picks for %s given up after %d attempts", send.user_id, counted)
