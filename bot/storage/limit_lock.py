"""A limit's check and the insert it allows as one step, however many processes add at once."""

from __future__ import annotations

from enum import Enum

from bot.storage.connection import Connection


class Limited(Enum):
    """What a limit counts, per owner: the lock's name, so different limits never wait on each other."""

    FOLLOWS = "follows"  # per member
    LIBRARY = "library"  # per member
    DIGESTS = "digests"  # per server


async def hold_limit(connection: Connection, limited: Limited, owner_id: int) -> None:
    """Call first inside the transaction that counts and then inserts: until it ends, another
    transaction checking the same owner's limit waits here, then counts what this one added.

    PostgreSQL (READ COMMITTED): two transactions otherwise both count limit-1 and both insert.
    A transaction-scoped advisory lock, keyed by a hash of limit and owner (a rare collision only
    serialises two unrelated adds), is released by the commit or rollback itself. SQLite: a
    write transaction already holds the database's one write lock, so nothing to do."""
    if connection.dialect.postgres:
        await connection.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
            (f"paperbot.limit.{limited.value}.{owner_id}",),
        )
