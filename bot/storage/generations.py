"""Generation counters: how a process notices what other processes changed (see migration 0006)."""

from __future__ import annotations

from bot.storage.connection import Connection, Store


class GenerationRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    @classmethod
    def of(cls, database: Store) -> GenerationRepository:
        return cls(database.connection)

    async def bump(self, name: str) -> int:
        """Inside a write transaction: mark ``name`` changed; returns its new generation."""
        sql = "UPDATE generations SET value = value + 1 WHERE name = ? RETURNING value"
        async with self._db.execute(sql, (name,)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def current(self, name: str) -> int:
        async with self._db.execute("SELECT value FROM generations WHERE name = ?", (name,)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0
