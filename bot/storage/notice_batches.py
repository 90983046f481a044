"""Grouped missed-day notices (migration 0039): every SQL statement about their batches.

A notice (``digest_notices``, one per digest period not posted) waits with no batch until a
batch takes it; a batch is one admin's DM (or one channel's post) telling all the notices it took,
its messages frozen, leased to one process like an alert batch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.missed_notices import MissedNotice, parse_token
from bot.domain.schedule import Cadence, LedgerKey
from bot.storage import batch_leases
from bot.storage.connection import Connection
from bot.storage.digests import instant

_OPEN = "state IN ('dm', 'channel')"
_KEY = "guild_id = ? AND channel_id = ? AND cadence = ? AND post_day = ?"
# A notice of a batch, by the day its frozen messages name (a zone change may re-date post_day).
_PLANNED = "guild_id = ? AND channel_id = ? AND cadence = ? AND planned_day = ?"


def _key(token: str) -> tuple[int, int, str, str]:
    key, day = parse_token(token)
    return (key.guild_id, key.channel_id, key.cadence.value, day.isoformat())


@dataclass(frozen=True, slots=True)
class WaitingNotice:
    """A notice no batch has taken yet, with what deciding its destination needs."""

    notice: MissedNotice
    state: str  # dm | channel
    admin: int | None  # who last ran /digest setup for the channel
    configured: bool  # False: the digest was removed since
    paused: bool
    posted: bool  # the period was posted after all (/digest resume)


@dataclass(frozen=True, slots=True)
class NoticeBatchRecord:
    batch_id: int
    target: str  # dm | channel
    target_id: int
    guild_id: int
    plan: str
    parts_sent: dict[int, int]
    created_at: datetime
    tries: int
    attempts: int


class NoticeBatchRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def has_work(self, *, owner: str, now: datetime) -> bool:
        """A notice waiting for a batch, or a batch to (re)send now: answered by a read every tick."""
        moment = instant(now)
        sql = (
            f"SELECT 1 FROM digest_notices WHERE {_OPEN} AND batch_id IS NULL AND retry_at <= ? "
            "UNION ALL SELECT 1 FROM notice_batches WHERE state = 'sending' AND retry_at <= ? "
            "AND (owner IS NULL OR owner = ? OR lease_until IS NULL OR lease_until <= ?) LIMIT 1"
        )
        async with self._db.execute(sql, (moment, moment, owner, moment)) as cursor:
            return await cursor.fetchone() is not None

    async def waiting(self, now: datetime) -> list[WaitingNotice]:
        sql = (
            "SELECT n.guild_id, n.channel_id, n.cadence, n.post_day, n.reason, n.state, a.user_id, "
            "c.channel_id, c.paused, p.state FROM digest_notices n "
            "LEFT JOIN digest_admins a ON a.guild_id = n.guild_id AND a.channel_id = n.channel_id "
            "LEFT JOIN digest_configs c ON c.guild_id = n.guild_id AND c.channel_id = n.channel_id "
            "LEFT JOIN digest_posts p ON p.guild_id = n.guild_id AND p.channel_id = n.channel_id "
            "AND p.cadence = n.cadence AND p.post_day = n.post_day "
            f"WHERE n.{_OPEN} AND n.batch_id IS NULL AND n.retry_at <= ? "
            "ORDER BY n.guild_id, n.channel_id, n.cadence, n.post_day"
        )
        async with self._db.execute(sql, (instant(now),)) as cursor:
            rows = await cursor.fetchall()
        return [
            WaitingNotice(
                MissedNotice(
                    LedgerKey(int(r[0]), int(r[1]), Cadence(r[2])), date.fromisoformat(str(r[3])), str(r[4])
                ),
                str(r[5]),
                int(r[6]) if r[6] is not None else None,
                configured=r[7] is not None,
                paused=bool(r[8]),
                posted=r[9] == "posted",
            )
            for r in rows
        ]

    async def drop(self, tokens: Sequence[str]) -> None:
        """Notices nobody will be told: the digest was removed, or the day was posted after all."""
        for token in tokens:
            await self._db.execute(
                f"UPDATE digest_notices SET state = 'dropped' WHERE {_KEY} AND {_OPEN} AND batch_id IS NULL",
                _key(token),
            )

    async def defer(self, tokens: Sequence[str], retry_at: datetime) -> None:
        """Notices for a channel that cannot be posted in now (a paused digest): until ``retry_at``."""
        for token in tokens:
            await self._db.execute(
                f"UPDATE digest_notices SET retry_at = ? WHERE {_KEY} AND {_OPEN} AND batch_id IS NULL",
                (instant(retry_at), *_key(token)),
            )

    async def open_batch(
        self,
        target: str,
        target_id: int,
        guild_id: int,
        tokens: Sequence[str],
        *,
        now: datetime,
        owner: str,
        lease_until: datetime,
    ) -> tuple[int, list[MissedNotice]]:
        """A new batch leased to ``owner`` taking those of ``tokens`` no other batch took (another
        process may have, this instant): returns its id and the notices it holds."""
        sql = (
            "INSERT INTO notice_batches (target, target_id, guild_id, state, created_at, owner, "
            "lease_until, tries, retry_at) VALUES (?, ?, ?, 'sending', ?, ?, ?, 1, ?) RETURNING id"
        )
        params = (target, target_id, guild_id, instant(now), owner, instant(lease_until), instant(now))
        async with self._db.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        batch_id = int(row[0])
        for token in sorted(tokens):  # one order for every process: no deadlock on PostgreSQL
            await self._db.execute(
                f"UPDATE digest_notices SET batch_id = ?, state = ?, planned_day = post_day WHERE {_KEY} "
                f"AND {_OPEN} AND batch_id IS NULL",
                (batch_id, target, *_key(token)),
            )
        sql = (
            "SELECT guild_id, channel_id, cadence, post_day, reason FROM digest_notices "
            "WHERE batch_id = ? ORDER BY guild_id, channel_id, cadence, post_day"
        )
        async with self._db.execute(sql, (batch_id,)) as cursor:
            rows = await cursor.fetchall()
        return batch_id, [
            MissedNotice(
                LedgerKey(int(r[0]), int(r[1]), Cadence(r[2])), date.fromisoformat(str(r[3])), str(r[4])
            )
            for r in rows
        ]

    async def freeze(self, batch_id: int, plan: Sequence[object]) -> None:
        await self._db.execute(
            "UPDATE notice_batches SET plan = ? WHERE id = ?",
            (json.dumps(plan, ensure_ascii=False), batch_id),
        )

    async def void(self, batch_id: int) -> None:
        """A batch that took nothing (another process took its notices first): its row stays."""
        await self._db.execute(
            "UPDATE notice_batches SET state = 'sent', owner = NULL, lease_until = NULL WHERE id = ?",
            (batch_id,),
        )

    async def take_over(self, *, owner: str, lease_until: datetime, now: datetime) -> list[NoticeBatchRecord]:
        """Lease the batches due (a retry due, an earlier attempt of ``owner``, a dead process's)."""
        moment = instant(now)
        sql = (
            "UPDATE notice_batches SET owner = ?, lease_until = ?, tries = tries + 1 WHERE id IN ("
            "SELECT id FROM notice_batches WHERE state = 'sending' AND retry_at <= ? "
            "AND (owner = ? OR owner IS NULL OR lease_until IS NULL OR lease_until <= ?)"
            f"{self._db.dialect.skip_locked}) RETURNING id"
        )
        async with self._db.execute(sql, (owner, instant(lease_until), moment, owner, moment)) as cursor:
            ids = sorted(int(row[0]) for row in await cursor.fetchall())
        return [record for batch_id in ids if (record := await self.batch(batch_id)) is not None]

    async def batch(self, batch_id: int) -> NoticeBatchRecord | None:
        async with self._db.execute("SELECT * FROM notice_batches WHERE id = ?", (batch_id,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return NoticeBatchRecord(
            batch_id=int(row["id"]),
            target=str(row["target"]),
            target_id=int(row["target_id"]),
            guild_id=int(row["guild_id"]),
            plan=str(row["plan"]),
            parts_sent=batch_leases.parts_sent(str(row["parts_sent"])),
            created_at=datetime.fromisoformat(str(row["created_at"])),
            tries=int(row["tries"]),
            attempts=int(row["attempts"]),
        )

    async def renew(self, batch_id: int, *, owner: str, lease_until: datetime) -> bool:
        return await batch_leases.renew(
            self._db, "notice_batches", batch_id, owner=owner, lease_until=lease_until
        )

    async def record_part(
        self,
        batch_id: int,
        part: int,
        message_id: int,
        tokens: Sequence[str],
        *,
        told: str,
        owner: str,
        lease_until: datetime,
    ) -> bool:
        """The part arrived: its notices are ``told`` (told | said) by ``message_id``; False when
        ``owner`` lost the lease. ``tokens`` name the notices as frozen in the part, so each is
        found by its planned day: one re-dated since is told all the same."""
        recorded = await batch_leases.record_part(
            self._db, "notice_batches", batch_id, part, message_id, owner=owner, lease_until=lease_until
        )
        if not recorded:
            return False
        for token in tokens:
            await self._db.execute(
                "UPDATE digest_notices SET state = ?, message_id = ? "
                f"WHERE {_PLANNED} AND batch_id = ? AND {_OPEN}",
                (told, message_id, *_key(token), batch_id),
            )
        return True

    async def close(self, batch_id: int, *, told: str, owner: str) -> bool:
        """Every part arrived: each notice of the batch is ``told`` (one re-dated since the plan
        keeps its batch: it was said too)."""
        if not await self._end(batch_id, owner=owner):
            return False
        await self._db.execute(
            f"UPDATE digest_notices SET state = ? WHERE batch_id = ? AND {_OPEN}", (told, batch_id)
        )
        return True

    async def hand_back(self, batch_id: int, *, rest: str, owner: str, now: datetime) -> bool:
        """End the batch part-way: what arrived stays told; the notices it did not tell wait again
        as ``rest`` (channel: DMs refused; dropped: the digest was removed) for a new batch."""
        if not await self._end(batch_id, owner=owner):
            return False
        await self._db.execute(
            "UPDATE digest_notices SET state = ?, batch_id = NULL, planned_day = NULL, retry_at = ? "
            f"WHERE batch_id = ? AND {_OPEN}",
            (rest, instant(now), batch_id),
        )
        return True

    async def _end(self, batch_id: int, *, owner: str) -> bool:
        cursor = await self._db.execute(
            "UPDATE notice_batches SET state = 'sent', lease_until = NULL WHERE id = ? AND owner = ? "
            "AND state = 'sending'",
            (batch_id, owner),
        )
        return cursor.rowcount == 1

    async def release(self, batch_id: int, *, owner: str, retry_at: datetime, counted: bool) -> None:
        """Try the batch again at ``retry_at``; ``counted``: an ambiguous failure (5xx, timeout)."""
        await self._db.execute(
            "UPDATE notice_batches SET attempts = attempts + ?, retry_at = ?, lease_until = NULL "
            "WHERE id = ? AND owner = ? AND state = 'sending'",
            (int(counted), instant(retry_at), batch_id, owner),
        )
