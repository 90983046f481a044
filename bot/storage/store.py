"""Which backend holds the store: a ``postgresql://`` URL selects PostgreSQL, a path SQLite."""

from __future__ import annotations

from pathlib import Path

from bot.storage.connection import Store
from bot.storage.database import Database
from bot.storage.postgres import PostgresDatabase, is_postgres_url


async def open_store(
    target: str | Path,
    *,
    readers: int = 1,
    busy_timeout_ms: int = 5000,
    create: bool = True,
    readonly: bool = False,
) -> Store:
    """The store at ``target``, migrated to the newest schema (``readonly``: opened without
    writing anything, neither created nor migrated). ``create`` false: a command that only reads,
    which a PostgreSQL database that only takes reads (a standby) answers as it is."""
    if is_postgres_url(target):
        return await PostgresDatabase.open(
            str(target), readers=readers, migrate=not readonly, reads_only=not create
        )
    if readonly:
        return await Database.open_readonly(target)
    return await Database.open(target, readers=readers, busy_timeout_ms=busy_timeout_ms, create=create)
