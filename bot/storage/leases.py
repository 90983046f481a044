"""Named leases: which process runs a bot-wide job (the source schedule) right now.

A lease has an owner (a process instance id) and an expiry. The owner renews it while it runs;
another process takes it over only once it has expired, so two processes on one database never
run the job at once and a crashed owner is replaced within one lease period. One conditional
upsert decides, so it works the same on SQLite and PostgreSQL (``INSERT ... ON CONFLICT``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.storage.connection import Connection


class LeaseRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def acquire(self, name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew ``name`` for ``owner`` until ``now + ttl``; False while another owner holds it."""
        await self._db.execute(
            "INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at "
            "WHERE leases.owner = excluded.owner OR leases.expires_at <= ?",
            (name, owner, (now + ttl).isoformat(), now.isoformat()),
        )
        return await self.holder(name) == owner

    async def holder(self, name: str) -> str | None:
        async with self._db.execute("SELECT owner FROM leases WHERE name = ?", (name,)) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None

    async def expires(self, name: str) -> datetime | None:
        """When ``name``'s current hold ends (None: no one holds it)."""
        async with self._db.execute("SELECT expires_at FROM leases WHERE name = ?", (name,)) as cursor:
            row = await cursor.fetchone()
        return datetime.fromisoformat(str(row[0])) if row else None

    async def release(self, name: str, owner: str) -> None:
        await self._db.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))
