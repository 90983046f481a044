"""Momentum snapshots (upvotes, comments, stars per paper and fetch) and the rankings over them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.momentum import UpvoteHistory, Window
from bot.storage.connection import Connection
from bot.storage.papers import StoredPaper, paper_columns, paper_from_row
from bot.storage.signals import from_unix, unix

_PAPER_COLUMNS = paper_columns("p")


@dataclass(frozen=True, slots=True)
class Counted:
    """A stored paper with its newest snapshot's counts (None: never snapshotted)."""

    stored: StoredPaper
    upvotes: int | None
    comments: int | None
    stars: int | None


class MomentumRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def top(
        self, window: Window, sources: Sequence[str], *, limit: int, offset: int = 0
    ) -> list[Counted]:
        """Papers listed in ``window`` by these sources, most upvoted first (ties: newer first)."""
        # Rank on the newest snapshot (a short index seek) and read only the page's paper rows;
        # a paper never snapshotted (ingested from a file) ranks by its stored count.
        sql = (
            f"WITH chosen(source) AS ({self._db.dialect.texts()}), "
            "listed(pk) AS (SELECT DISTINCT paper_pk FROM listings "
            "  WHERE list_date BETWEEN ? AND ? AND source IN (SELECT source FROM chosen)), "
            "ranked(pk, upvotes) AS MATERIALIZED (SELECT pk, coalesce("
            "  (SELECT upvotes FROM paper_signals WHERE paper_pk = listed.pk "
            "   ORDER BY taken_at DESC LIMIT 1), "
            "  (SELECT upvotes FROM papers WHERE pk = listed.pk), -1) AS up "
            "  FROM listed ORDER BY up DESC, pk DESC LIMIT ? OFFSET ?) "
            f"SELECT p.pk, {_PAPER_COLUMNS}, p.created_at, "
            "s.upvotes AS s_upvotes, s.comments AS s_comments, s.stars AS s_stars "
            "FROM ranked JOIN papers p ON p.pk = ranked.pk "
            "LEFT JOIN paper_signals s ON s.paper_pk = p.pk AND s.taken_at = "
            "  (SELECT max(taken_at) FROM paper_signals WHERE paper_pk = p.pk) "
            "ORDER BY ranked.upvotes DESC, ranked.pk DESC"
        )
        params = (json.dumps(list(sources)), window.start.isoformat(), window.end.isoformat(), limit, offset)
        async with self._db.execute(sql, params) as cursor:
            rows = await cursor.fetchall()
        return [
            Counted(
                paper_from_row(row),
                row["s_upvotes"] if row["s_upvotes"] is not None else row["upvotes"],
                row["s_comments"],
                row["s_stars"],
            )
            for row in rows
        ]

    async def count_listed(self, window: Window, sources: Sequence[str]) -> int:
        sql = (
            "SELECT count(DISTINCT paper_pk) FROM listings WHERE list_date BETWEEN ? AND ? "
            f"AND source IN ({self._db.dialect.texts()})"
        )
        params = (window.start.isoformat(), window.end.isoformat(), json.dumps(list(sources)))
        async with self._db.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def last_updated(self, start: date, end: date, sources: Sequence[str]) -> datetime | None:
        """When the counts of papers listed between ``start`` and ``end`` were last taken."""
        sql = (
            "SELECT max(s.taken_at) FROM listings l JOIN paper_signals s ON s.paper_pk = l.paper_pk "
            f"WHERE l.list_date BETWEEN ? AND ? AND l.source IN ({self._db.dialect.texts()})"
        )
        params = (start.isoformat(), end.isoformat(), json.dumps(list(sources)))
        async with self._db.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return from_unix(int(row[0])) if row and row[0] is not None else None

    async def upvote_histories(
        self, since: date, sources: Sequence[str], *, cutoff: datetime, now: datetime
    ) -> list[UpvoteHistory]:
        """For each paper listed from ``since`` to now's date: its upvotes now, at the cutoff, and
        just after it."""
        sql = (
            f"WITH chosen(source) AS ({self._db.dialect.texts('?1')}), "
            "listed(pk) AS (SELECT DISTINCT paper_pk FROM listings "
            "  WHERE list_date BETWEEN ?2 AND ?5 AND source IN (SELECT source FROM chosen)) "
            "SELECT p.pk, p.first_listed, "
            "(SELECT upvotes FROM paper_signals WHERE paper_pk = p.pk AND taken_at <= ?3 "
            "   ORDER BY taken_at DESC LIMIT 1) AS latest, "
            "(SELECT upvotes FROM paper_signals WHERE paper_pk = p.pk AND taken_at <= ?4 "
            "   ORDER BY taken_at DESC LIMIT 1) AS before_cutoff, "
            "(SELECT upvotes FROM paper_signals WHERE paper_pk = p.pk AND taken_at > ?4 "
            "   ORDER BY taken_at LIMIT 1) AS first_after "
            "FROM listed JOIN papers p ON p.pk = listed.pk"
        )
        params = (
            json.dumps(list(sources)),
            since.isoformat(),
            unix(now),
            unix(cutoff),
            now.date().isoformat(),
        )
        async with self._db.execute(sql, params) as cursor:
            rows = await cursor.fetchall()
        return [
            UpvoteHistory(
                pk=row["pk"],
                first_listed=date.fromisoformat(row["first_listed"]) if row["first_listed"] else None,
                latest=row["latest"],
                before_cutoff=row["before_cutoff"],
                first_after_cutoff=row["first_after"],
            )
            for row in rows
        ]

    async def counted(self, pks: Sequence[int]) -> dict[int, Counted]:
        """Papers by pk with their newest counts."""
        sql = (
            f"SELECT p.pk, {_PAPER_COLUMNS}, p.created_at, "
            "s.upvotes AS s_upvotes, s.comments AS s_comments, s.stars AS s_stars "
            "FROM papers p LEFT JOIN paper_signals s ON s.paper_pk = p.pk AND s.taken_at = "
            "  (SELECT max(taken_at) FROM paper_signals WHERE paper_pk = p.pk) "
            f"WHERE p.pk IN ({self._db.dialect.ints()})"
        )
        async with self._db.execute(sql, (json.dumps(list(pks)),)) as cursor:
            rows = await cursor.fetchall()
        return {
            row["pk"]: Counted(
                paper_from_row(row),
                row["s_upvotes"] if row["s_upvotes"] is not None else row["upvotes"],
                row["s_comments"],
                row["s_stars"],
            )
            for row in rows
        }

    async def list_days(self, sources: Sequence[str], *, limit: int) -> list[date]:
        """The newest list dates, newest first."""
        sql = (
            f"SELECT DISTINCT list_date FROM listings WHERE source IN ({self._db.dialect.texts()}) "
            "ORDER BY list_date DESC LIMIT ?"
        )
        async with self._db.execute(sql, (json.dumps(list(sources)), limit)) as cursor:
            return [date.fromisoformat(row[0]) for row in await cursor.fetchall()]

    async def snapshot_count(self) -> int:
        async with self._db.execute("SELECT count(*) FROM paper_signals") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0
