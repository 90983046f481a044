"""Forgetting a member: every row keyed by their user id, in one transaction (the caller's)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.storage.connection import Connection


@dataclass(frozen=True, slots=True)
class Forgotten:
    follows: int
    saved: int
    alerts: int
    kept_in_flight: int  # alerts of a DM being sent right now: kept until it is delivered


# A DM batch another process may be sending right now ('sending', under its lease): its alerts and
# the bare member row they hang on stay so that delivery finishes exactly once; nothing else does.
_IN_FLIGHT = "SELECT id FROM alert_batches WHERE user_id = ? AND state = 'sending'"


class PrivacyRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def _delete(self, sql: str, params: tuple[object, ...]) -> int:
        cursor = await self._db.execute(sql, params)
        return max(0, cursor.rowcount)

    async def forget(self, user_id: int) -> Forgotten:
        """Delete what paperbot keeps about a member (see bot/domain/about.py for the list)."""
        follows = await self._delete("DELETE FROM follows WHERE user_id = ?", (user_id,))
        saved = await self._delete("DELETE FROM library WHERE user_id = ?", (user_id,))
        await self._delete("DELETE FROM library_settings WHERE user_id = ?", (user_id,))
        await self._delete("DELETE FROM member_guilds WHERE user_id = ?", (user_id,))
        await self._delete("DELETE FROM votes WHERE user_id = ?", (user_id,))
        alerts = await self._delete(
            f"DELETE FROM alerts WHERE user_id = ? AND (batch_id IS NULL OR batch_id NOT IN ({_IN_FLIGHT}))",
            (user_id, user_id),
        )
        alerts += await self._delete(
            "DELETE FROM library_updates WHERE user_id = ? "
            f"AND (batch_id IS NULL OR batch_id NOT IN ({_IN_FLIGHT}))",
            (user_id, user_id),
        )
        await self._delete("DELETE FROM alert_batches WHERE user_id = ? AND state <> 'sending'", (user_id,))
        # A weekly picks DM being sent (leased, maybe by another process) is finished exactly once.
        await self._delete(
            "DELETE FROM weekly_picks_sends WHERE user_id = ? AND state <> 'sending'", (user_id,)
        )
        sql = (
            "SELECT (SELECT count(*) FROM alerts WHERE user_id = ?) "
            "+ (SELECT count(*) FROM library_updates WHERE user_id = ?)"
        )
        async with self._db.execute(sql, (user_id, user_id)) as cursor:
            row = await cursor.fetchone()
        kept = int(row[0]) if row else 0
        if kept == 0:
            await self._delete("DELETE FROM members WHERE user_id = ?", (user_id,))
        else:  # keep only the row the in-flight alerts reference, with no settings of theirs
            await self._db.execute(
                "UPDATE members SET mode = 'instant', daily_time = '09:00', timezone = 'UTC', "
                "paused_until = NULL WHERE user_id = ?",
                (user_id,),
            )
        return Forgotten(follows, saved, alerts, kept)
