"""The database server's clock, which every process of a PostgreSQL store shares."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.storage.connection import Connection


class ServerTimeRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def now(self) -> datetime | None:
        """The server's time now; None for SQLite, whose processes all run on the file's machine
        and so read one clock already."""
        if not self._db.dialect.postgres:
            return None
        # clock_timestamp(), not now(): the time of this statement, not of its transaction's start.
        async with self._db.execute("SELECT clock_timestamp()") as cursor:
            row = await cursor.fetchone()
        value: datetime = row[0]
        return value.astimezone(UTC)
