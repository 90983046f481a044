"""Missed digest periods and the notices telling the admin about them: every SQL statement about them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from bot.domain.schedule import LedgerKey
from bot.storage.connection import Connection
from bot.storage.digests import instant


def _key(key: LedgerKey, post_day: date) -> tuple[int, int, str, str]:
    return (key.guild_id, key.channel_id, key.cadence.value, post_day.isoformat())


@dataclass(frozen=True, slots=True)
class Missed:
    post_day: date
    reason: str


class DigestNoticeRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    # ---- who set a digest up ----------------------------------------------------------------

    async def set_admin(self, guild_id: int, channel_id: int, user_id: int) -> None:
        await self._db.execute(
            "INSERT INTO digest_admins (guild_id, channel_id, user_id) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id, channel_id) DO UPDATE SET user_id = excluded.user_id",
            (guild_id, channel_id, user_id),
        )

    async def admin(self, guild_id: int, channel_id: int) -> int | None:
        sql = "SELECT user_id FROM digest_admins WHERE guild_id = ? AND channel_id = ?"
        async with self._db.execute(sql, (guild_id, channel_id)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else None

    # ---- recording a miss --------------------------------------------------------------------

    async def ledger_days(self, since: date) -> set[tuple[int, int, str, date]]:
        """Every (server, channel, cadence, period) from ``since`` on with a ledger row (any state)."""
        sql = "SELECT guild_id, channel_id, cadence, post_day FROM digest_posts WHERE post_day >= ?"
        async with self._db.execute(sql, (since.isoformat(),)) as cursor:
            rows = await cursor.fetchall()
        return {(int(r[0]), int(r[1]), str(r[2]), date.fromisoformat(str(r[3]))) for r in rows}

    async def changed_at(self) -> dict[tuple[int, int], datetime]:
        """When each digest's settings (or pause) last changed: days before that are not missed."""
        async with self._db.execute("SELECT guild_id, channel_id, updated_at FROM digest_configs") as cursor:
            rows = await cursor.fetchall()
        changed = {}
        for guild_id, channel_id, stamp in rows:
            try:
                moment = datetime.fromisoformat(str(stamp))
            except ValueError:
                continue  # not a time (a hand-edited row): looked back the whole LOOK_BACK
            changed[(int(guild_id), int(channel_id))] = (
                moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            )
        return changed

    async def record_missed(self, key: LedgerKey, post_day: date, reason: str, now: datetime) -> bool:
        """The period in the ledger as skipped, with why; False when it has a row already (posted,
        being posted late by another process, or recorded missed by one): the ledger's key decides."""
        cursor = await self._db.execute(
            "INSERT INTO digest_posts (guild_id, channel_id, cadence, post_day, state, error, claimed_at, "
            "finished_at) VALUES (?, ?, ?, ?, 'skipped', ?, ?, ?) "
            "ON CONFLICT (guild_id, channel_id, cadence, post_day) DO NOTHING",
            (*_key(key, post_day), reason, instant(now), instant(now)),
        )
        return cursor.rowcount == 1

    async def open_notice(
        self, key: LedgerKey, post_day: date, reason: str, now: datetime, *, told: bool = False
    ) -> None:
        """A notice to deliver (once: one per period), in the transaction that records the miss;
        ``told``: the admin was told already (the reply to their own command said it)."""
        await self._db.execute(
            "INSERT INTO digest_notices (guild_id, channel_id, cadence, post_day, reason, state, created_at, "
            "retry_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id, channel_id, cadence, post_day) DO NOTHING",
            (*_key(key, post_day), reason, "told" if told else "dm", instant(now), instant(now)),
        )

    async def missed(self, key: LedgerKey, since: date, limit: int = 5) -> list[Missed]:
        """The digest's recent periods that were not posted (newest first), with why; a failed one
        posted after all (``/digest resume``) is not among them."""
        sql = (
            "SELECT n.post_day, n.reason FROM digest_notices n JOIN digest_posts p "
            "ON p.guild_id = n.guild_id AND p.channel_id = n.channel_id AND p.cadence = n.cadence "
            "AND p.post_day = n.post_day "
            "WHERE n.guild_id = ? AND n.channel_id = ? AND n.cadence = ? AND n.post_day >= ? "
            "AND p.state <> 'posted' ORDER BY n.post_day DESC LIMIT ?"
        )
        params = (key.guild_id, key.channel_id, key.cadence.value, since.isoformat(), limit)
        async with self._db.execute(sql, params) as cursor:
            rows = await cursor.fetchall()
        return [Missed(date.fromisoformat(str(r[0])), str(r[1])) for r in rows]
