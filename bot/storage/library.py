"""Members' saved papers: every SQL statement about the library."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.library import LibraryEntry, ReadFilter
from bot.storage.connection import Connection, Dialect, Row
from bot.storage.digests import instant
from bot.storage.limit_lock import Limited, hold_limit
from bot.storage.papers import _FIELDS, paper_from_row


@dataclass(frozen=True, slots=True)
class PicksSend:
    """An open weekly picks DM: whose, which week, its frozen message, when it was claimed."""

    user_id: int
    week: str
    plan: str
    created_at: datetime
    attempts: int


_PAPER_COLUMNS = ", ".join(f"p.{name}" for name in (*_FIELDS, "created_at"))
_SELECT = (
    f"SELECT p.pk, {_PAPER_COLUMNS}, l.saved_at, l.read_at, l.tags, l.note "
    "FROM library l JOIN papers p ON p.pk = l.paper_pk"
)
_FILTERS = {
    ReadFilter.ALL: "",
    ReadFilter.UNREAD: " AND l.read_at IS NULL",
    ReadFilter.READ: " AND l.read_at IS NOT NULL",
}


def _has_tag(dialect: Dialect) -> str:
    return f" AND (CAST(? AS TEXT) IS NULL OR {dialect.json_has_text('l.tags')})"


def _stamp(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def entry_from_row(row: Row) -> LibraryEntry:
    stored = paper_from_row(row)
    return LibraryEntry(
        paper_pk=stored.pk,
        paper=stored.paper,
        saved_at=datetime.fromisoformat(row["saved_at"]),
        read_at=datetime.fromisoformat(row["read_at"]) if row["read_at"] else None,
        tags=tuple(json.loads(row["tags"])),
        note=row["note"],
    )


class LibraryRepository:
    """Writers must run inside ``Database.transaction()``."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def hold_library_limit(self, user_id: int) -> None:
        """In a transaction that checks the member's library limit, before counting (see hold_limit)."""
        await hold_limit(self._db, Limited.LIBRARY, user_id)

    async def save(self, user_id: int, paper_pk: int, now: datetime) -> bool:
        """Add a paper; False when it was saved already (saving twice changes nothing)."""
        cursor = await self._db.execute(
            "INSERT INTO library (user_id, paper_pk, saved_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (user_id, paper_pk, _stamp(now)),
        )
        return cursor.rowcount > 0

    async def savers(self, paper_pks: Sequence[int]) -> list[tuple[int, int]]:
        """(member, paper) for each of ``paper_pks`` in a library, of members the bot can DM: those
        who saved or followed from a server (a DM goes to someone who shares one with the bot)."""
        sql = (
            "SELECT l.user_id, l.paper_pk FROM library l "
            f"WHERE l.paper_pk IN ({self._db.dialect.ints()}) "
            "AND EXISTS (SELECT 1 FROM member_guilds g WHERE g.user_id = l.user_id) "
            "ORDER BY l.paper_pk, l.user_id"
        )
        async with self._db.execute(sql, (json.dumps(list(paper_pks)),)) as cursor:
            return [(row[0], row[1]) for row in await cursor.fetchall()]

    async def remove(self, user_id: int, paper_pk: int) -> bool:
        cursor = await self._db.execute(
            "DELETE FROM library WHERE user_id = ? AND paper_pk = ?", (user_id, paper_pk)
        )
        return cursor.rowcount > 0

    async def set_read(self, user_id: int, paper_pk: int, read_at: datetime | None) -> bool:
        cursor = await self._db.execute(
            "UPDATE library SET read_at = ? WHERE user_id = ? AND paper_pk = ?",
            (_stamp(read_at) if read_at else None, user_id, paper_pk),
        )
        return cursor.rowcount > 0

    async def set_tags(self, user_id: int, paper_pk: int, tags: Sequence[str]) -> bool:
        cursor = await self._db.execute(
            "UPDATE library SET tags = ? WHERE user_id = ? AND paper_pk = ?",
            (json.dumps(list(tags), ensure_ascii=False), user_id, paper_pk),
        )
        return cursor.rowcount > 0

    async def set_note(self, user_id: int, paper_pk: int, note: str | None) -> bool:
        cursor = await self._db.execute(
            "UPDATE library SET note = ? WHERE user_id = ? AND paper_pk = ?", (note, user_id, paper_pk)
        )
        return cursor.rowcount > 0

    async def forget(self, user_id: int) -> int:
        cursor = await self._db.execute("DELETE FROM library WHERE user_id = ?", (user_id,))
        return cursor.rowcount

    async def get(self, user_id: int, paper_pk: int) -> LibraryEntry | None:
        sql = f"{_SELECT} WHERE l.user_id = ? AND l.paper_pk = ?"
        async with self._db.execute(sql, (user_id, paper_pk)) as cursor:
            row = await cursor.fetchone()
        return entry_from_row(row) if row else None

    async def count(self, user_id: int, status: ReadFilter = ReadFilter.ALL, tag: str | None = None) -> int:
        tagged = _has_tag(self._db.dialect)
        sql = f"SELECT count(*) FROM library l WHERE l.user_id = ?{_FILTERS[status]}{tagged}"
        async with self._db.execute(sql, (user_id, tag, tag)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def entries(
        self,
        user_id: int,
        status: ReadFilter = ReadFilter.ALL,
        tag: str | None = None,
        *,
        limit: int = -1,
        offset: int = 0,
    ) -> list[LibraryEntry]:
        """Newest saved first."""
        sql = (
            f"{_SELECT} WHERE l.user_id = ?{_FILTERS[status]}{_has_tag(self._db.dialect)} "
            "ORDER BY l.saved_at DESC, l.paper_pk DESC LIMIT ? OFFSET ?"
        )
        async with self._db.execute(sql, (user_id, tag, tag, limit, offset)) as cursor:
            return [entry_from_row(row) for row in await cursor.fetchall()]

    async def every_entry(self, user_id: int, tag: str | None = None) -> list[LibraryEntry]:
        """Every saved paper (or every one with ``tag``), newest saved first, for an export.

        Up to the library cap of long rows: turning them into entries takes a second or more of
        Python, so it runs on a worker thread and the event loop keeps answering meanwhile."""
        sql = (
            f"{_SELECT} WHERE l.user_id = ?{_has_tag(self._db.dialect)} "
            "ORDER BY l.saved_at DESC, l.paper_pk DESC"
        )
        async with self._db.execute(sql, (user_id, tag, tag)) as cursor:
            rows = await cursor.fetchall()
        return await asyncio.to_thread(lambda: [entry_from_row(row) for row in rows])

    async def titles(self, user_id: int) -> list[tuple[str, str]]:
        """(paper id, title) of every saved paper, newest saved first: for autocomplete."""
        sql = (
            "SELECT p.id, p.title FROM library l JOIN papers p ON p.pk = l.paper_pk "
            "WHERE l.user_id = ? ORDER BY l.saved_at DESC, l.paper_pk DESC"
        )
        async with self._db.execute(sql, (user_id,)) as cursor:
            return [(row[0], row[1]) for row in await cursor.fetchall()]

    async def saved_pks(self, user_id: int) -> set[int]:
        async with self._db.execute("SELECT paper_pk FROM library WHERE user_id = ?", (user_id,)) as cursor:
            return {int(row[0]) for row in await cursor.fetchall()}

    async def alerted_pks(self, user_id: int) -> set[int]:
        """Papers a follow alert already brought the member (picks skip them)."""
        async with self._db.execute("SELECT paper_pk FROM alerts WHERE user_id = ?", (user_id,)) as cursor:
            return {int(row[0]) for row in await cursor.fetchall()}

    async def first_pk_since(self, stamp: datetime) -> int | None:
        """The first paper inserted at or after ``stamp`` (papers are numbered in insert order)."""
        sql = "SELECT min(pk) FROM papers WHERE created_at >= ?"
        async with self._db.execute(sql, (_stamp(stamp),)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row and row[0] is not None else None

    async def set_weekly(self, user_id: int, on: bool) -> None:
        await self._db.execute(
            "INSERT INTO library_settings (user_id, weekly_picks) VALUES (?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET weekly_picks = excluded.weekly_picks",
            (user_id, int(on)),
        )

    async def weekly_due(self, week: str) -> list[int]:
        """Members with picks on and none this week, among those the bot can DM: who used it in a
        server (the caller then asks Discord whether they are still in one)."""
        sql = (
            "SELECT s.user_id FROM library_settings s WHERE s.weekly_picks = 1 "
            "AND (s.last_week IS NULL OR s.last_week < ?) "
            "AND EXISTS (SELECT 1 FROM member_guilds g WHERE g.user_id = s.user_id) "
            "ORDER BY s.user_id"
        )
        async with self._db.execute(sql, (week,)) as cursor:
            return [int(row[0]) for row in await cursor.fetchall()]

    async def claim_week(self, user_id: int, week: str) -> bool:
        """Mark this week's picks as sent; False when they were (another process or an earlier run)."""
        cursor = await self._db.execute(
            "UPDATE library_settings SET last_week = ? WHERE user_id = ? AND weekly_picks = 1 "
            "AND (last_week IS NULL OR last_week < ?)",
            (week, user_id, week),
        )
        return cursor.rowcount > 0

    async def weekly(self, user_id: int) -> bool:
        sql = "SELECT weekly_picks FROM library_settings WHERE user_id = ?"
        async with self._db.execute(sql, (user_id,)) as cursor:
            row = await cursor.fetchone()
        return bool(row and row[0])

    async def forget_settings(self, user_id: int) -> None:
        await self._db.execute("DELETE FROM library_settings WHERE user_id = ?", (user_id,))

    # ---- weekly picks DMs: one per member and week, leased like alert batches -----------------

    async def open_picks_send(
        self, user_id: int, week: str, plan: str, now: datetime, *, owner: str, lease_until: datetime
    ) -> None:
        """The week's DM, frozen and leased to ``owner`` (in the transaction that claims the week)."""
        await self._db.execute(
            "INSERT INTO weekly_picks_sends (user_id, week, state, plan, created_at, owner, lease_until, "
            "retry_at) VALUES (?, ?, 'sending', ?, ?, ?, ?, ?)",
            (user_id, week, plan, instant(now), owner, instant(lease_until), instant(now)),
        )

    async def has_takeable_picks(self, *, owner: str, now: datetime) -> bool:
        """Whether some week's DM is open, due for a retry and not leased to another live process."""
        sql = (
            "SELECT 1 FROM weekly_picks_sends WHERE state = 'sending' AND retry_at <= ? "
            "AND (owner = ? OR lease_until IS NULL OR lease_until <= ?) LIMIT 1"
        )
        async with self._db.execute(sql, (instant(now), owner, instant(now))) as cursor:
            return await cursor.fetchone() is not None

    async def take_over_picks(self, *, owner: str, lease_until: datetime, now: datetime) -> list[PicksSend]:
        """Lease every open DM due for a retry whose lease ran out (or is ours) to ``owner``."""
        moment = instant(now)
        await self._db.execute(
            "UPDATE weekly_picks_sends SET owner = ?, lease_until = ? WHERE state = 'sending' "
            "AND retry_at <= ? AND (owner = ? OR lease_until IS NULL OR lease_until <= ?)",
            (owner, instant(lease_until), moment, owner, moment),
        )
        sql = (
            "SELECT user_id, week, plan, created_at, attempts FROM weekly_picks_sends "
            "WHERE state = 'sending' AND owner = ? AND lease_until = ? ORDER BY user_id, week"
        )
        async with self._db.execute(sql, (owner, instant(lease_until))) as cursor:
            rows = await cursor.fetchall()
        return [
            PicksSend(int(r[0]), str(r[1]), str(r[2]), datetime.fromisoformat(str(r[3])), int(r[4]))
            for r in rows
        ]

    async def renew_picks(self, user_id: int, week: str, *, owner: str, lease_until: datetime) -> bool:
        """Extend ``owner``'s lease; False when another process took the DM over (or it is closed)."""
        cursor = await self._db.execute(
            "UPDATE weekly_picks_sends SET lease_until = ? "
            "WHERE user_id = ? AND week = ? AND owner = ? AND state = 'sending'",
            (instant(lease_until), user_id, week, owner),
        )
        return cursor.rowcount > 0

    async def close_picks(
        self, user_id: int, week: str, state: str, *, owner: str, message_id: int | None = None
    ) -> bool:
        """Close the DM as ``state`` (sent, unreachable, gave_up); False when not ``owner``'s."""
        cursor = await self._db.execute(
            "UPDATE weekly_picks_sends SET state = ?, message_id = ?, lease_until = NULL "
            "WHERE user_id = ? AND week = ? AND owner = ? AND state = 'sending'",
            (state, message_id, user_id, week, owner),
        )
        return cursor.rowcount > 0

    async def retry_picks_later(self, user_id: int, week: str, retry_at: datetime, *, owner: str) -> int:
        """An ambiguous failure: count it, give the lease up and wait until ``retry_at``. Returns
        the attempts so far (0: not ``owner``'s any more)."""
        await self._db.execute(
            "UPDATE weekly_picks_sends SET attempts = attempts + 1, retry_at = ?, lease_until = NULL "
            "WHERE user_id = ? AND week = ? AND owner = ? AND state = 'sending'",
            (instant(retry_at), user_id, week, owner),
        )
        sql = "SELECT attempts FROM weekly_picks_sends WHERE user_id = ? AND week = ? AND state = 'sending'"
        async with self._db.execute(sql, (user_id, week)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def picks_state(self, user_id: int, week: str) -> str | None:
        """How the member's DM of ``week`` stands (None: never opened)."""
        sql = "SELECT state FROM weekly_picks_sends WHERE user_id = ? AND week = ?"
        async with self._db.execute(sql, (user_id, week)) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None
