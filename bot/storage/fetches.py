"""The source fetch log: what each fetch brought, or why it failed (for /digest show, stats, doctor)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.storage.database import RoutedConnection


@dataclass(frozen=True, slots=True)
class FetchRecord:
    source: str
    list_date: date | None
    fetched_at: datetime
    ok: bool
    papers: int
    error: str | None


class FetchLogRepository:
    def __init__(self, connection: RoutedConnection) -> None:
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
