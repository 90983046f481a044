"""Members, their follows, the alert queue/ledger and DM batches: every SQL statement about them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from bot.domain.delivery import BatchState
from bot.storage import batch_leases
from bot.storage.connection import Connection, Row
from bot.storage.digests import instant
from bot.storage.limit_lock import Limited, hold_limit

FOREVER = "forever"
# The two ledgers a DM batch delivers: follow alerts (member, paper) and saved-paper updates
# (member, paper, change). Both move pending -> sending -> sent together with their batch.
_LEDGERS = ("alerts", "library_updates")


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int
    mode: str
    daily_time: time
    timezone: str
    paused_until: str | None  # ISO instant or FOREVER
    unreachable_since: str | None

    def paused_at(self, now: datetime) -> bool:
        if self.paused_until is None:
            return False
        return self.paused_until == FOREVER or datetime.fromisoformat(self.paused_until) > now


@dataclass(frozen=True, slots=True)
class StoredFollow:
    id: int
    user_id: int
    keyword: str
    canonical: str


@dataclass(frozen=True, slots=True)
class QueuedAlert:
    """One paper of a DM batch: the member's follows it matched and/or, for a paper they saved,
    what changed (``v3``, ``code``; see bot.domain.alerts)."""

    paper_pk: int
    keywords: tuple[str, ...]
    changes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BatchRecord:
    batch_id: int
    user_id: int
    state: BatchState
    created_at: datetime
    owner: str | None
    plan: str | None  # the DM's parts as frozen at claim time (JSON)
    parts_sent: dict[int, int]  # part number -> message id


def _member(row: Row) -> Member:
    return Member(
        user_id=row["user_id"],
        mode=row["mode"],
        daily_time=time.fromisoformat(row["daily_time"]),
        timezone=row["timezone"],
        paused_until=row["paused_until"],
        unreachable_since=row["unreachable_since"],
    )


class FollowRepository:
    """Writers must run inside ``Database.transaction()``."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def hold_follow_limit(self, user_id: int) -> None:
        """In a transaction that checks the member's follow limit, before counting (see hold_limit)."""
        await hold_limit(self._db, Limited.FOLLOWS, user_id)

    # ---- members -------------------------------------------------------------------------------

    async def ensure_member(self, user_id: int, guild_id: int | None, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO members (user_id, created_at) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING",
            (user_id, now.isoformat()),
        )
        if guild_id is not None:
            await self._db.execute(
                "INSERT INTO member_guilds (user_id, guild_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (user_id, guild_id),
            )

    async def member(self, user_id: int) -> Member | None:
        async with self._db.execute("SELECT * FROM members WHERE user_id = ?", (user_id,)) as cursor:
            row = await cursor.fetchone()
        return _member(row) if row else None

    async def members(self, user_ids: Sequence[int]) -> dict[int, Member]:
        sql = f"SELECT * FROM members WHERE user_id IN ({self._db.dialect.ints()})"
        async with self._db.execute(sql, (json.dumps(list(user_ids)),)) as cursor:
            return {row["user_id"]: _member(row) for row in await cursor.fetchall()}

    async def update_member(self, user_id: int, **values: object) -> None:
        allowed = {"mode", "daily_time", "timezone", "paused_until", "unreachable_since"}
        assert set(values) <= allowed, values
        assignments = ", ".join(f"{name} = ?" for name in values)
        await self._db.execute(
            f"UPDATE members SET {assignments} WHERE user_id = ?", (*values.values(), user_id)
        )

    async def member_guilds(self, user_id: int) -> list[int]:
        async with self._db.execute(
            "SELECT guild_id FROM member_guilds WHERE user_id = ?", (user_id,)
        ) as cursor:
            return [row[0] for row in await cursor.fetchall()]

    async def forget_guild(self, user_id: int, guild_id: int) -> None:
        await self._db.execute(
            "DELETE FROM member_guilds WHERE user_id = ? AND guild_id = ?", (user_id, guild_id)
        )

    # ---- follows -------------------------------------------------------------------------------

    async def add_follow(self, user_id: int, keyword: str, canonical: str, now: datetime) -> int | None:
        """The new follow's id, or None when the member already follows the same query."""
        sql = (
            "INSERT INTO follows (user_id, keyword, canonical, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (user_id, canonical) DO NOTHING RETURNING id"
        )
        async with self._db.execute(sql, (user_id, keyword, canonical, now.isoformat())) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else None

    async def follows(self, user_id: int) -> list[StoredFollow]:
        sql = "SELECT id, user_id, keyword, canonical FROM follows WHERE user_id = ? ORDER BY id"
        async with self._db.execute(sql, (user_id,)) as cursor:
            return [StoredFollow(*row) for row in await cursor.fetchall()]

    async def remove_follow(self, user_id: int, follow_id: int) -> StoredFollow | None:
        sql = "DELETE FROM follows WHERE user_id = ? AND id = ? RETURNING id, user_id, keyword, canonical"
        async with self._db.execute(sql, (user_id, follow_id)) as cursor:
            row = await cursor.fetchone()
        return StoredFollow(*row) if row else None

    async def all_follows(self) -> list[StoredFollow]:
        async with self._db.execute(
            "SELECT id, user_id, keyword, canonical FROM follows ORDER BY id"
        ) as cursor:
            return [StoredFollow(*row) for row in await cursor.fetchall()]

    async def count_follows(self) -> int:
        async with self._db.execute("SELECT count(*) FROM follows") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    # ---- the alert queue -----------------------------------------------------------------------

    async def queue(self, rows: Sequence[tuple[int, int, Sequence[str]]], now: datetime) -> int:
        """Queue (user, paper, keywords); a paper already queued or sent to the member is ignored."""
        values = [
            (user, pk, json.dumps(list(keywords), ensure_ascii=False), now.isoformat())
            for user, pk, keywords in rows
        ]
        return await self._insert_new("alerts (user_id, paper_pk, keywords, created_at)", values)

    async def queue_changes(self, rows: Sequence[tuple[int, int, str]], now: datetime) -> int:
        """Queue (user, paper, change) for saved papers; a change already queued or sent is ignored."""
        values = [(user, pk, change, now.isoformat()) for user, pk, change in rows]
        return await self._insert_new("library_updates (user_id, paper_pk, change, created_at)", values)

    async def _insert_new(self, target: str, values: Sequence[tuple[int, int, str, str]]) -> int:
        """Insert (int, int, text, text) rows into ``target``, skipping those whose key is there
        already; how many went in."""
        if not values:
            return 0
        # One statement over the whole list, whose count of inserted rows both backends report.
        # (WHERE true: SQLite's grammar needs it between INSERT ... SELECT and ON CONFLICT.)
        rows_sql = self._db.dialect.json_rows("int", "int", "text", "text")
        cursor = await self._db.execute(
            f"INSERT INTO {target} SELECT c0, c1, c2, c3 FROM {rows_sql} AS queued WHERE true "
            "ON CONFLICT DO NOTHING",
            (json.dumps(list(values), ensure_ascii=False),),
        )
        return cursor.rowcount

    async def users_with_pending(self) -> list[int]:
        sql = (
            "SELECT user_id FROM alerts WHERE state = 'pending' "
            "UNION SELECT user_id FROM library_updates WHERE state = 'pending' ORDER BY user_id"
        )
        async with self._db.execute(sql) as cursor:
            return [row[0] for row in await cursor.fetchall()]

    async def has_pending(self, user_id: int) -> bool:
        sql = (
            "SELECT 1 FROM alerts WHERE user_id = ? AND state = 'pending' "
            "UNION ALL SELECT 1 FROM library_updates WHERE user_id = ? AND state = 'pending' LIMIT 1"
        )
        async with self._db.execute(sql, (user_id, user_id)) as cursor:
            return await cursor.fetchone() is not None

    async def open_batch(
        self, user_id: int, local_day: date | None, now: datetime, *, owner: str, lease_until: datetime
    ) -> tuple[int, list[QueuedAlert]]:
        """Move a member's pending alerts into a new batch, leased to ``owner``. Batch rows are
        never deleted, so a batch id never repeats (it is in the DM's marker and nonce)."""
        sql = (
            "INSERT INTO alert_batches (user_id, state, local_day, created_at, owner, lease_until) "
            "VALUES (?, 'sending', ?, ?, ?, ?) RETURNING id"
        )
        day = local_day.isoformat() if local_day else None
        async with self._db.execute(sql, (user_id, day, instant(now), owner, instant(lease_until))) as cursor:
            row = await cursor.fetchone()
        batch_id = int(row[0])
        for table in _LEDGERS:
            await self._db.execute(
                f"UPDATE {table} SET state = 'sending', batch_id = ? WHERE user_id = ? AND state = 'pending'",
                (batch_id, user_id),
            )
        return batch_id, await self.batch_alerts(batch_id)

    async def sending_batches(self) -> list[int]:
        """Batches still being sent (or interrupted)."""
        sql = "SELECT id FROM alert_batches WHERE state = 'sending' ORDER BY id"
        async with self._db.execute(sql) as cursor:
            return [row[0] for row in await cursor.fetchall()]

    async def freeze_plan(self, batch_id: int, plan: str) -> None:
        await self._db.execute("UPDATE alert_batches SET plan = ? WHERE id = ?", (plan, batch_id))

    async def batch_alerts(self, batch_id: int) -> list[QueuedAlert]:
        """The batch's papers in queue order, each once: a saved paper that also matched a follow
        is one entry saying both."""
        sql = (
            "SELECT paper_pk, keywords, NULL AS change, created_at FROM alerts WHERE batch_id = ? "
            "UNION ALL SELECT paper_pk, '[]', change, created_at FROM library_updates WHERE batch_id = ? "
            "ORDER BY created_at, paper_pk, change"
        )
        by_paper: dict[int, QueuedAlert] = {}
        async with self._db.execute(sql, (batch_id, batch_id)) as cursor:
            for pk, keywords, change, _ in await cursor.fetchall():
                found = by_paper.get(pk, QueuedAlert(pk, ()))
                by_paper[pk] = QueuedAlert(
                    pk,
                    found.keywords + tuple(json.loads(keywords)),
                    found.changes + ((change,) if change else ()),
                )
        return list(by_paper.values())

    async def has_takeable_batches(self, *, owner: str, now: datetime) -> bool:
        sql = (
            "SELECT 1 FROM alert_batches WHERE state = 'sending' "
            "AND (owner = ? OR owner IS NULL OR lease_until IS NULL OR lease_until <= ?) LIMIT 1"
        )
        async with self._db.execute(sql, (owner, instant(now))) as cursor:
            return await cursor.fetchone() is not None

    async def take_over_batches(
        self, *, owner: str, lease_until: datetime, now: datetime
    ) -> list[BatchRecord]:
        """Claim the batches being sent whose lease expired (their process died) or is ``owner``'s
        own (an earlier attempt of this process failed part-way)."""
        # On PostgreSQL a batch another process is claiming this instant is skipped, not waited
        # for: that process gets it, this one takes the rest (SQLite has one writer at a time).
        sql = (
            "UPDATE alert_batches SET owner = ?, lease_until = ? WHERE id IN ("
            "SELECT id FROM alert_batches WHERE state = 'sending' "
            "AND (owner = ? OR owner IS NULL OR lease_until IS NULL OR lease_until <= ?)"
            f"{self._db.dialect.skip_locked}) RETURNING id"
        )
        async with self._db.execute(sql, (owner, instant(lease_until), owner, instant(now))) as cursor:
            ids = [row[0] for row in await cursor.fetchall()]
        return [batch for batch_id in sorted(ids) if (batch := await self.batch(batch_id)) is not None]

    async def batch(self, batch_id: int) -> BatchRecord | None:
        async with self._db.execute("SELECT * FROM alert_batches WHERE id = ?", (batch_id,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return BatchRecord(
            batch_id=row["id"],
            user_id=row["user_id"],
            state=BatchState(row["state"]),
            created_at=datetime.fromisoformat(row["created_at"]),
            owner=row["owner"],
            plan=row["plan"],
            parts_sent=batch_leases.parts_sent(row["parts_sent"]),
        )

    async def record_part(
        self,
        batch_id: int,
        part: int,
        message_id: int,
        paper_pks: Sequence[int],
        *,
        owner: str,
        lease_until: datetime,
    ) -> bool:
        """Record which message delivered which alerts (renewing the lease); False when ``owner``
        lost the lease."""
        recorded = await batch_leases.record_part(
            self._db, "alert_batches", batch_id, part, message_id, owner=owner, lease_until=lease_until
        )
        if not recorded:
            return False
        for table in _LEDGERS:
            await self._db.execute(
                f"UPDATE {table} SET state = 'sent', message_id = ? "
                f"WHERE batch_id = ? AND paper_pk IN ({self._db.dialect.ints()})",
                (message_id, batch_id, json.dumps(list(paper_pks))),
            )
        return True

    async def drop_refused(
        self, batch_id: int, paper_pks: Sequence[int], *, owner: str, lease_until: datetime
    ) -> bool:
        """Discord refused the part carrying ``paper_pks`` for good: those alerts are dropped (sent
        again they would be refused again), under ``owner``'s lease; False when it lost the lease."""
        if not await self.renew_batch(batch_id, owner=owner, lease_until=lease_until):
            return False
        for table in _LEDGERS:
            await self._db.execute(
                f"UPDATE {table} SET state = 'dropped' "
                f"WHERE batch_id = ? AND state = 'sending' AND paper_pk IN ({self._db.dialect.ints()})",
                (batch_id, json.dumps(list(paper_pks))),
            )
        return True

    async def renew_batch(self, batch_id: int, *, owner: str, lease_until: datetime) -> bool:
        return await batch_leases.renew(
            self._db, "alert_batches", batch_id, owner=owner, lease_until=lease_until
        )

    async def close_batch(self, batch_id: int, now: datetime, *, owner: str) -> bool:
        """End a batch: what it delivered stays sent; anything it did not deliver waits again in the
        queue (for a later batch, with a new id)."""
        cursor = await self._db.execute(
            "UPDATE alert_batches SET state = 'sent', sent_at = ?, lease_until = NULL, "
            f"message_ids = {self._db.dialect.json_values_by_key('parts_sent')} "
            "WHERE id = ? AND owner = ? AND state = 'sending'",
            (instant(now), batch_id, owner),
        )
        if cursor.rowcount != 1:
            return False
        for table in _LEDGERS:
            await self._db.execute(
                f"UPDATE {table} SET state = 'pending', batch_id = NULL "
                "WHERE batch_id = ? AND state = 'sending'",
                (batch_id,),
            )
        return True

    async def void_batch(self, batch_id: int) -> None:
        """End a batch that took no alerts: its row stays (ids never repeat) without the member."""
        await self._db.execute(
            "UPDATE alert_batches SET user_id = 0, state = 'sent', owner = NULL, lease_until = NULL "
            "WHERE id = ?",
            (batch_id,),
        )

    async def release_batch(self, batch_id: int, now: datetime, *, owner: str) -> None:
        """Give up the lease without closing (an ambiguous failure: a resume checks what arrived)."""
        await self._db.execute(
            "UPDATE alert_batches SET lease_until = ? WHERE id = ? AND owner = ? AND state = 'sending'",
            (instant(now), batch_id, owner),
        )

    async def drop_pending(self, user_id: int) -> None:
        for table in _LEDGERS:
            await self._db.execute(
                f"UPDATE {table} SET state = 'dropped' WHERE user_id = ? AND state = 'pending'", (user_id,)
            )

    # ---- the member changes their mind while alerts wait or are being sent ---------------------

    async def unmatch(self, user_id: int, label: str) -> None:
        """A follow the member removed (``label``: as their alerts name it) no longer explains any
        paper not yet delivered to them: it leaves each such alert, and an alert it alone explained
        is dropped. A batch being sent that holds one of them is asked to stop."""
        sql = "SELECT paper_pk, keywords FROM alerts WHERE user_id = ? AND state IN ('pending', 'sending')"
        async with self._db.execute(sql, (user_id,)) as cursor:
            unsent = [(int(pk), json.loads(keywords)) for pk, keywords in await cursor.fetchall()]
        dropped, changed = [], []
        for pk, keywords in unsent:
            if label not in keywords:
                continue
            changed.append(pk)
            rest = [keyword for keyword in keywords if keyword != label]
            if not rest:
                dropped.append(pk)
                continue
            await self._db.execute(
                "UPDATE alerts SET keywords = ? WHERE user_id = ? AND paper_pk = ?",
                (json.dumps(rest, ensure_ascii=False), user_id, pk),
            )
        if not changed:
            return
        await self._db.execute(
            "UPDATE alerts SET state = 'dropped' WHERE user_id = ? AND state IN ('pending', 'sending') "
            f"AND paper_pk IN ({self._db.dialect.ints()})",
            (user_id, json.dumps(dropped)),
        )
        # A statement of its own, after the updates above: on PostgreSQL they waited for a batch
        # being opened for these alerts this instant, and this one sees that batch.
        await self._db.execute(
            "UPDATE alert_batches SET stop_requested = 1 WHERE state = 'sending' AND id IN ("
            "SELECT batch_id FROM alerts WHERE user_id = ? AND batch_id IS NOT NULL "
            f"AND paper_pk IN ({self._db.dialect.ints()}))",
            (user_id, json.dumps(changed)),
        )

    async def drop_follow_matches(self, user_id: int) -> None:
        """A pause: papers matched by the member's follows and not yet delivered are dropped (a
        pause drops keyword matches; saved-paper updates wait for the resume), and their batch
        being sent is asked to stop."""
        await self._db.execute(
            "UPDATE alerts SET state = 'dropped' WHERE user_id = ? AND state IN ('pending', 'sending')",
            (user_id,),
        )
        await self._db.execute(
            "UPDATE alert_batches SET stop_requested = 1 WHERE user_id = ? AND state = 'sending'",
            (user_id,),
        )

    async def hand_on_day(self, batch_id: int) -> None:
        """Before closing a batch stopped part-way: if it leaves papers to a next batch, it no longer
        counts as the member's daily DM of its day (the next batch, delivering them, does)."""
        await self._db.execute(
            "UPDATE alert_batches SET local_day = NULL WHERE id = ? AND ("
            "EXISTS (SELECT 1 FROM alerts WHERE batch_id = ? AND state = 'sending') "
            "OR EXISTS (SELECT 1 FROM library_updates WHERE batch_id = ? AND state = 'sending'))",
            (batch_id, batch_id, batch_id),
        )

    async def stop_requested(self, batch_id: int) -> bool:
        """Whether the member asked, since the batch was opened, that it go no further."""
        sql = "SELECT stop_requested FROM alert_batches WHERE id = ?"
        async with self._db.execute(sql, (batch_id,)) as cursor:
            row = await cursor.fetchone()
        return bool(row and row[0])

    async def daily_batch_sent(self, user_id: int, local_day: date) -> bool:
        sql = (
            "SELECT 1 FROM alert_batches WHERE user_id = ? AND local_day = ? AND state = 'sent' "
            "AND parts_sent != '{}' LIMIT 1"
        )
        async with self._db.execute(sql, (user_id, local_day.isoformat())) as cursor:
            return await cursor.fetchone() is not None

    async def count_sent(self) -> int:
        async with self._db.execute("SELECT count(*) FROM alerts WHERE state = 'sent'") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0
