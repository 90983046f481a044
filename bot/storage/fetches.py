"""The source fetch log: what each fetch brought, or why it failed (for /digest show, stats, doctor,
and the source schedule, which reads when each source was last fetched)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.sources import FetchState
from bot.storage.connection import Connection


@dataclass(frozen=True, slots=True)
class FetchRecord:
    source: str
    list_date: date | None
    fetched_at: datetime
    ok: bool
    papers: int
    error: str | None


class FetchLogRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def record(self, record: FetchRecord) -> None:
        await self._db.execute(
            "INSERT INTO source_fetches (source, list_date, fetched_at, ok, papers, error) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                record.source,
                record.list_date.isoformat() if record.list_date else None,
                record.fetched_at.isoformat(),
                int(record.ok),
                record.papers,
                record.error,
            ),
        )

    async def last(self, source: str) -> FetchRecord | None:
        sql = "SELECT * FROM source_fetches WHERE source = ? ORDER BY fetched_at DESC, id DESC LIMIT 1"
        async with self._db.execute(sql, (source,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return FetchRecord(
            source=row["source"],
            list_date=date.fromisoformat(row["list_date"]) if row["list_date"] else None,
            fetched_at=datetime.fromisoformat(row["fetched_at"]),
            ok=bool(row["ok"]),
            papers=row["papers"],
            error=row["error"],
        )

    async def last_at(
        self, source: str, list_date: date | None = None, *, ok_only: bool = True
    ) -> datetime | None:
        """When ``source`` (its list for ``list_date``, if given) was last fetched (successfully)."""
        sql = "SELECT max(fetched_at) FROM source_fetches WHERE source = ?"
        params: tuple[object, ...] = (source,)
        if ok_only:
            sql += " AND ok = 1"
        if list_date is not None:
            sql += " AND list_date = ?"
            params += (list_date.isoformat(),)
        async with self._db.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    async def state(self, source: str) -> FetchState:
        """Last success, last attempt and the failed runs since the success (the schedule's input)."""
        last_ok = await self.last_at(source)
        # A run fetches several days' lists, one record each: failed runs = failures of one list.
        sql = (
            "SELECT max(last), max(runs) FROM (SELECT max(fetched_at) AS last, count(*) AS runs "
            "FROM source_fetches WHERE source = ? AND ok = 0 AND fetched_at > ? GROUP BY list_date)"
        )
        since = last_ok.isoformat() if last_ok else ""
        async with self._db.execute(sql, (source, since)) as cursor:
            row = await cursor.fetchone()
        last_failed = datetime.fromisoformat(row[0]) if row and row[0] else None
        failures = int(row[1]) if row and row[1] else 0
        last_attempt = max(filter(None, (last_ok, last_failed)), default=None)
        return FetchState(last_ok=last_ok, last_attempt=last_attempt, failures=failures)
