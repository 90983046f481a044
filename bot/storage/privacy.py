"""Forgetting a member: every row keyed by their user id, in one transaction (the caller's)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.storage.connection import Connection


@dataclass(frozen=True, slots=True)
class Forgotten:
    follows: int
    saved: int
    alerts: int
    stopped_in_flight: int  # DMs being sent to them right now: stopped before their next part


# Every DM batch of the member ends here, one being sent included: its sender (this process,
# another one, or one taking over a dead process's lease) renews its lease and records each part
# only while the batch is 'sending' under its lease, so it stops before the next part. The row
# stays, with nothing about the member in it, because a batch id is in the DMs' marker and nonce
# and must never repeat (SQLite hands out a deleted highest id again).
_ANONYMISE_BATCHES = (
    "UPDATE alert_batches SET user_id = 0, state = 'sent', local_day = NULL, message_ids = '[]', "
    "plan = NULL, parts_sent = '{}', owner = NULL, lease_until = NULL, sent_at = NULL "
    "WHERE user_id = ?"
)

# The member's missed-day DMs as a digest admin (migration 0039) end the same way: a batch being
# sent is renewed and recorded only while 'sending' under its sender's lease, so it stops. The days
# it had not told yet go to their digests' channels, where a day missed after the forget is said
# too (``digest_admins`` no longer names them: nobody to DM). Every batch row stays, its id in the
# DMs' marker and nonce, without the member's id or the frozen DM.
_HAND_NOTICES_TO_CHANNELS = (
    "UPDATE digest_notices SET state = 'channel', batch_id = NULL, planned_day = NULL "
    "WHERE state = 'dm' AND batch_id IN "
    "(SELECT id FROM notice_batches WHERE target = 'dm' AND target_id = ? AND state = 'sending')"
)
_ANONYMISE_NOTICE_BATCHES = (
    "UPDATE notice_batches SET target_id = 0, state = 'sent', plan = '[]', parts_sent = '{}', "
    "owner = NULL, lease_until = NULL WHERE target = 'dm' AND target_id = ?"
)


class PrivacyRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def _delete(self, sql: str, params: tuple[object, ...]) -> int:
        cursor = await self._db.execute(sql, params)
        return max(0, cursor.rowcount)

    async def forget(self, user_id: int) -> Forgotten:
        """Delete what paperbot keeps about a member (see bot/domain/about.py for the list)."""
        async with self._db.execute(
            "SELECT (SELECT count(*) FROM alert_batches WHERE user_id = ? AND state = 'sending') "
            "+ (SELECT count(*) FROM weekly_picks_sends WHERE user_id = ? AND state = 'sending') "
            "+ (SELECT count(*) FROM notice_batches WHERE target = 'dm' AND target_id = ? "
            "AND state = 'sending')",
            (user_id, user_id, user_id),
        ) as cursor:
            row = await cursor.fetchone()
        in_flight = int(row[0]) if row else 0
        follows = await self._delete("DELETE FROM follows WHERE user_id = ?", (user_id,))
        saved = await self._delete("DELETE FROM library WHERE user_id = ?", (user_id,))
        await self._delete("DELETE FROM library_settings WHERE user_id = ?", (user_id,))
        await self._delete("DELETE FROM member_guilds WHERE user_id = ?", (user_id,))
        await self._delete("DELETE FROM votes WHERE user_id = ?", (user_id,))
        # Digests they set up keep running; a missed post is then told in the channel instead.
        await self._delete("DELETE FROM digest_admins WHERE user_id = ?", (user_id,))
        await self._db.execute(_HAND_NOTICES_TO_CHANNELS, (user_id,))
        await self._db.execute(_ANONYMISE_NOTICE_BATCHES, (user_id,))
        alerts = await self._delete("DELETE FROM alerts WHERE user_id = ?", (user_id,))
        alerts += await self._delete("DELETE FROM library_updates WHERE user_id = ?", (user_id,))
        await self._db.execute(_ANONYMISE_BATCHES, (user_id,))
        # A weekly picks DM being sent is recorded only while its row is 'sending': gone, it stops.
        await self._delete("DELETE FROM weekly_picks_sends WHERE user_id = ?", (user_id,))
        await self._delete("DELETE FROM members WHERE user_id = ?", (user_id,))
        return Forgotten(follows, saved, alerts, in_flight)
