"""Each shard's server count, as the process running it last counted (one row per shard): the
bot's whole server count is their sum, across processes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.storage.connection import Connection


@dataclass(frozen=True, slots=True)
class ServerCount:
    servers: int  # summed over the shards below
    shards: int  # shards with a fresh count
    shard_count: int  # shards the bot runs
    counted_at: datetime | None  # the oldest count in the sum: how fresh the total is


class ShardServerRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def record(
        self, counts: Mapping[int, int], shard_count: int, now: datetime, *, stale_before: datetime
    ) -> None:
        """This process's shards' counts as of ``now``; counts older than ``stale_before`` go."""
        await self._db.execute("DELETE FROM shard_servers WHERE counted_at < ?", (stale_before.isoformat(),))
        await self._db.executemany(
            "INSERT INTO shard_servers (shard_id, shard_count, servers, counted_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (shard_id) DO UPDATE SET shard_count = excluded.shard_count, "
            "servers = excluded.servers, counted_at = excluded.counted_at",
            [(shard, shard_count, servers, now.isoformat()) for shard, servers in sorted(counts.items())],
        )

    async def total(self, shard_count: int, *, since: datetime) -> ServerCount:
        """The servers of the shards of this layout counted since ``since``."""
        sql = (
            "SELECT coalesce(sum(servers), 0), count(*), min(counted_at) FROM shard_servers "
            "WHERE shard_count = ? AND shard_id < ? AND counted_at >= ?"
        )
        async with self._db.execute(sql, (shard_count, shard_count, since.isoformat())) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        oldest = datetime.fromisoformat(str(row[2])) if row[2] is not None else None
        return ServerCount(int(row[0]), int(row[1]), shard_count, oldest)
