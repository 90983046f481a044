"""What ``migrate-store`` checks on the target besides writing it: whether bots run on it, and
where a table's rows first differ from the source's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import aiosqlite
import asyncpg

from bot.storage.row_digest import TableShape

# Every running paperbot holds a shard claim (``all`` when it runs every shard) and renews it;
# the process that polls the sources also holds a lease. Both lapse within a minute of a stop.
_CLAIMS = (
    "SELECT 'shard ' || shard, owner, expires_at FROM shard_claims{live} "
    "UNION ALL SELECT 'lease ' || name, owner, expires_at FROM leases{live}"
)


async def foreign_claims(reader: aiosqlite.Connection, connection: asyncpg.Connection, now: datetime) -> str:
    """The target's live claims that are not the source's own rows copied there (a copied claim
    of the stopped SQLite bot is its history, not a bot running on PostgreSQL), described for the
    user with what to stop; "" when none."""
    async with reader.execute(_CLAIMS.format(live="")) as cursor:
        copied = {(str(r[0]), str(r[1]), str(r[2])) for r in await cursor.fetchall()}
    live = await connection.fetch(_CLAIMS.format(live=" WHERE expires_at > $1"), now.isoformat())
    running = sorted({(str(r[1]), str(r[0]), str(r[2])) for r in live} - {(o, w, e) for w, o, e in copied})
    if not running:
        return ""
    owners: dict[str, list[str]] = {}
    for owner, what, _expires in running:
        owners.setdefault(owner, []).append(what)
    latest = max(expires for _owner, _what, expires in running)
    held = "; ".join(f"process {owner} holds {', '.join(what)}" for owner, what in owners.items())
    return (
        f"the PostgreSQL database is in use by running paperbot processes ({held}). Stop every "
        "`paperbot run` that uses it, then run migrate-store again (a process that was killed lets "
        f"go when its claims expire, by {latest})"
    )


async def _source_rows(reader: aiosqlite.Connection, query: str) -> AsyncIterator[tuple[object, ...]]:
    async with reader.execute(query) as cursor:
        while chunk := await cursor.fetchmany(2000):
            for row in chunk:
                yield tuple(row)


async def first_difference(
    reader: aiosqlite.Connection, connection: asyncpg.Connection, shape: TableShape
) -> tuple[object, ...] | None:
    """The key of the first row (in key order) that one side lacks or holds differently."""
    columns = ", ".join(f'"{c}"' for c in shape.columns)
    table = f'"{shape.table}"'
    source = _source_rows(reader, f"SELECT {columns} FROM {table} ORDER BY {shape.order_by(postgres=False)}")
    target = connection.cursor(
        f"SELECT {columns} FROM {table} ORDER BY {shape.order_by(postgres=True)}", prefetch=2000
    ).__aiter__()
    left = await anext(source, None)
    right_record = await anext(target, None)
    right = None if right_record is None else tuple(right_record)
    while left is not None or right is not None:
        if left is None or right is None:
            return shape.key_of(left or right or ())  # the side that has rows left
        left_key, right_key = shape.key_of(left), shape.key_of(right)
        if left_key != right_key:
            return min(left_key, right_key)
        if shape.canonical_row(left) != shape.canonical_row(right):
            return left_key
        left = await anext(source, None)
        right_record = await anext(target, None)
        right = None if right_record is None else tuple(right_record)
    return None
