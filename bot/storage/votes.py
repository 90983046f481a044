"""A server's own votes on papers and whether its digests offer them: every SQL statement about them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.momentum import Window
from bot.storage.connection import Connection
from bot.storage.papers import StoredPaper, paper_columns, paper_from_row


@dataclass(frozen=True, slots=True)
class Voted:
    stored: StoredPaper
    votes: int


class VoteRepository:
    """Writers must run inside ``Database.transaction()``."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def toggle(self, guild_id: int, paper_pk: int, user_id: int, now: datetime) -> bool:
        """Vote, or take back the member's vote if they had one; True when they now vote.

        Two votes of one member at once count as one after the other: on PostgreSQL the second may
        find no vote to take back (the first's not yet committed) and then meet it on inserting.
        Its insert then waits for the first to commit and does nothing, and the second goes round
        again: its next DELETE (a new statement, so a new READ COMMITTED snapshot) takes the vote
        back. SQLite's one writer runs them one after the other anyway."""
        key = (guild_id, paper_pk, user_id)
        while True:
            cursor = await self._db.execute(
                "DELETE FROM votes WHERE guild_id = ? AND paper_pk = ? AND user_id = ?", key
            )
            if cursor.rowcount > 0:
                return False
            cursor = await self._db.execute(
                "INSERT INTO votes (guild_id, paper_pk, user_id, voted_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (guild_id, paper_pk, user_id) DO NOTHING",
                (*key, now.isoformat()),
            )
            if cursor.rowcount > 0:
                return True

    async def count(self, guild_id: int, paper_pk: int) -> int:
        sql = "SELECT count(*) FROM votes WHERE guild_id = ? AND paper_pk = ?"
        async with self._db.execute(sql, (guild_id, paper_pk)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def enabled(self, guild_id: int) -> bool:
        sql = "SELECT enabled FROM vote_settings WHERE guild_id = ?"
        async with self._db.execute(sql, (guild_id,)) as cursor:
            row = await cursor.fetchone()
        return row is None or bool(row[0])

    async def set_enabled(self, guild_id: int, enabled: bool) -> None:
        await self._db.execute(
            "INSERT INTO vote_settings (guild_id, enabled) VALUES (?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET enabled = excluded.enabled",
            (guild_id, int(enabled)),
        )

    async def top(self, guild_id: int, window: Window, sources: Sequence[str], *, limit: int) -> list[Voted]:
        """Papers listed in ``window`` that the server voted for, most votes first (ties: newer)."""
        sql = (
            "WITH listed(pk) AS (SELECT DISTINCT paper_pk FROM listings WHERE list_date BETWEEN ? AND ? "
            f"  AND source IN ({self._db.dialect.texts()})), "
            "counted(pk, votes) AS (SELECT paper_pk, count(*) FROM votes "
            "  WHERE guild_id = ? AND paper_pk IN (SELECT pk FROM listed) GROUP BY paper_pk) "
            f"SELECT p.pk, {paper_columns('p')}, p.created_at, counted.votes AS votes "
            "FROM counted JOIN papers p ON p.pk = counted.pk ORDER BY counted.votes DESC, p.pk DESC LIMIT ?"
        )
        params = (
            window.start.isoformat(),
            window.end.isoformat(),
            json.dumps(list(sources)),
            guild_id,
            limit,
        )
        async with self._db.execute(sql, params) as cursor:
            return [Voted(paper_from_row(row), row["votes"]) for row in await cursor.fetchall()]

    async def last_vote(self, guild_id: int) -> datetime | None:
        async with self._db.execute(
            "SELECT max(voted_at) FROM votes WHERE guild_id = ?", (guild_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None
