"""Which process runs which Discord shards of one store, and how many servers it counted on them:
one row per shard (``all`` for a process that runs every shard), the claim and the count together,
so a count is only ever its live holder's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.storage.connection import Connection

ALL = "all"  # the claim of a process that runs every shard Discord recommends


@dataclass(frozen=True, slots=True)
class ShardClaim:
    shard: str  # "0", "1", ... or ALL
    shard_count: int  # the layout it belongs to; 0 for ALL
    owner: str  # the holding process's instance id
    expires_at: datetime
    servers: int | None  # as the holder counted them; None: not counted yet
    counted_at: datetime | None


@dataclass(frozen=True, slots=True)
class ServerCount:
    servers: int  # summed over the shards below
    shards: int  # shards whose live holder has counted them
    shard_count: int  # shards the bot runs
    counted_at: datetime | None  # the oldest count in the sum: how fresh the total is


class ShardClaimRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def serialize(self) -> None:
        """Make this transaction's read-check-write of claims the only one at a time. SQLite's
        writes already are (BEGIN IMMEDIATE); PostgreSQL's READ COMMITTED would let two processes
        of different layouts each see no claim of the other and both insert theirs."""
        if self._db.dialect.postgres:
            await self._db.execute("LOCK TABLE shard_claims IN SHARE ROW EXCLUSIVE MODE")

    async def live(self, now: datetime) -> list[ShardClaim]:
        """Every claim not expired at ``now``, by shard."""
        rows = await self._db.fetch_all(
            "SELECT shard, shard_count, owner, expires_at, servers, counted_at FROM shard_claims "
            "WHERE expires_at > ? ORDER BY shard",
            (now.isoformat(),),
        )
        return [
            ShardClaim(
                str(r[0]),
                int(r[1]),
                str(r[2]),
                datetime.fromisoformat(str(r[3])),
                None if r[4] is None else int(r[4]),
                None if r[5] is None else datetime.fromisoformat(str(r[5])),
            )
            for r in rows
        ]

    async def take(
        self, shards: list[str], shard_count: int, owner: str, now: datetime, ttl: timedelta
    ) -> None:
        """Claim (or renew) ``shards`` for ``owner`` until ``now + ttl``. The caller has checked no
        one else holds them live; expired claims go first, so a taken-over shard starts with no
        count (its old holder's is not this one's), while a renewal keeps the holder's count."""
        await self._db.execute("DELETE FROM shard_claims WHERE expires_at <= ?", (now.isoformat(),))
        await self._db.executemany(
            "INSERT INTO shard_claims (shard, shard_count, owner, expires_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (shard) DO UPDATE SET expires_at = excluded.expires_at "
            "WHERE shard_claims.owner = excluded.owner",
            [(shard, shard_count, owner, (now + ttl).isoformat()) for shard in shards],
        )

    async def release(self, shards: list[str], owner: str) -> None:
        await self._db.executemany(
            "DELETE FROM shard_claims WHERE shard = ? AND owner = ?", [(shard, owner) for shard in shards]
        )

    async def drop(self, claim: ShardClaim) -> None:
        """Forget a claim whose holder is known to be gone (while it is still that holder's)."""
        await self._db.execute(
            "DELETE FROM shard_claims WHERE shard = ? AND owner = ?", (claim.shard, claim.owner)
        )

    async def count(self, servers: Mapping[str, int], owner: str, now: datetime) -> None:
        """The servers ``owner`` runs on each of its shards as of ``now``: written on its live
        claims only (a shard it lost, or whose claim lapsed, is no longer its to count)."""
        await self._db.executemany(
            "UPDATE shard_claims SET servers = ?, counted_at = ? "
            "WHERE shard = ? AND owner = ? AND expires_at > ?",
            [(n, now.isoformat(), shard, owner, now.isoformat()) for shard, n in sorted(servers.items())],
        )

    async def total(self, shard_count: int, now: datetime) -> ServerCount:
        """The servers counted on the live claims of the bot's ``shard_count`` shards, summed."""
        counted = [
            claim
            for claim in await self.live(now)
            if claim.servers is not None and claim.shard_count in (shard_count, 0)
        ]
        shards = sum(shard_count if claim.shard == ALL else 1 for claim in counted)
        oldest = min((c.counted_at for c in counted if c.counted_at is not None), default=None)
        return ServerCount(sum(c.servers or 0 for c in counted), shards, shard_count, oldest)
