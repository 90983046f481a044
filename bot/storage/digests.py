"""Digest settings per (server, channel) and the exactly-once post ledger."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time

from bot.domain.delivery import PostState
from bot.domain.digest import DigestPlan
from bot.domain.schedule import Cadence, DigestConfig, LedgerKey, ListMode
from bot.storage.connection import Connection, Row
from bot.storage.limit_lock import Limited, hold_limit

_CONFIG_COLUMNS = (
    "guild_id, channel_id, post_time, timezone, max_papers, weekdays_only, thread, source, paused, "
    "pause_reason, list_mode, topic, cadence, weekday, schedule_from"
)
# A ledger row: which digest (server, channel, cadence) and which period.
_ROW = "guild_id = ? AND channel_id = ? AND cadence = ? AND post_day = ?"
# The tables keyed by a digest's period, which move together when the ledger is re-dated.
_KEYED_BY_PERIOD = ("digest_posts", "digest_coverage", "digest_notices")


@dataclass(frozen=True, slots=True)
class LedgerDay:
    """A ledger row as re-dating sees it (bot.domain.redating)."""

    cadence: Cadence
    post_day: date
    claimed_at: datetime
    missed: bool  # recorded as not posted (no plan, a reason): it stands for its due time


@dataclass(frozen=True, slots=True)
class PostRecord:
    guild_id: int
    channel_id: int
    post_day: date
    list_date: date | None
    state: PostState
    parts: int
    message_ids: dict[int, int]
    error: str | None
    finished_at: datetime | None
    claimed_at: datetime
    owner: str | None = None
    lease_until: datetime | None = None
    plan: DigestPlan | None = None  # frozen at claim time (None: claimed before plans were kept)

    @property
    def missed(self) -> bool:
        """Recorded as not posted (its time passed while paperbot was down): no plan, a reason."""
        return self.state is PostState.SKIPPED and self.plan is None and self.error is not None


def instant(moment: datetime) -> str:
    """Instants as stored: UTC, fixed precision, so that text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _config(row: Row) -> DigestConfig:
    return DigestConfig(
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        post_time=time.fromisoformat(row["post_time"]),
        timezone=row["timezone"],
        max_papers=row["max_papers"],
        weekdays_only=bool(row["weekdays_only"]),
        thread=bool(row["thread"]),
        source=row["source"],
        paused=bool(row["paused"]),
        pause_reason=row["pause_reason"],
        list_mode=ListMode(row["list_mode"]),
        topic=row["topic"],
        cadence=Cadence(row["cadence"]),
        weekday=row["weekday"],
        schedule_from=datetime.fromisoformat(row["schedule_from"]) if row["schedule_from"] else None,
    )


def _row(key: LedgerKey, post_day: date) -> tuple[int, int, str, str]:
    return (key.guild_id, key.channel_id, key.cadence.value, post_day.isoformat())


def _post(row: Row) -> PostRecord:
    return PostRecord(
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        post_day=date.fromisoformat(row["post_day"]),
        list_date=date.fromisoformat(row["list_date"]) if row["list_date"] else None,
        state=PostState(row["state"]),
        parts=row["parts"],
        message_ids={int(k): int(v) for k, v in json.loads(row["message_ids"]).items()},
        error=row["error"],
        finished_at=datetime.fromisoformat(row["finished_at"]) if row["finished_at"] else None,
        claimed_at=datetime.fromisoformat(row["claimed_at"]),
        owner=row["owner"],
        lease_until=datetime.fromisoformat(row["lease_until"]) if row["lease_until"] else None,
        plan=DigestPlan.from_json(row["plan"]) if row["plan"] else None,
    )


class DigestRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def hold_digest_limit(self, guild_id: int) -> None:
        """In a transaction that checks the server's digest limit, before counting (see hold_limit)."""
        await hold_limit(self._db, Limited.DIGESTS, guild_id)

    # ---- settings ----------------------------------------------------------------------------

    async def save_config(self, config: DigestConfig, now: datetime) -> None:
        stamp = now.isoformat(timespec="seconds")
        await self._db.execute(
            f"INSERT INTO digest_configs ({_CONFIG_COLUMNS}, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id, channel_id) DO UPDATE SET "
            "post_time = excluded.post_time, timezone = excluded.timezone, max_papers = excluded.max_papers, "
            "weekdays_only = excluded.weekdays_only, thread = excluded.thread, source = excluded.source, "
            "paused = excluded.paused, pause_reason = excluded.pause_reason, list_mode = excluded.list_mode, "
            "topic = excluded.topic, cadence = excluded.cadence, weekday = excluded.weekday, "
            "schedule_from = excluded.schedule_from, updated_at = excluded.updated_at",
            (
                config.guild_id,
                config.channel_id,
                config.post_time.strftime("%H:%M"),
                config.timezone,
                config.max_papers,
                int(config.weekdays_only),
                int(config.thread),
                config.source,
                int(config.paused),
                config.pause_reason,
                config.list_mode.value,
                config.topic,
                config.cadence.value,
                config.weekday,
                instant(config.schedule_from) if config.schedule_from else None,
                stamp,
                stamp,
            ),
        )

    async def config(self, guild_id: int, channel_id: int) -> DigestConfig | None:
        sql = f"SELECT {_CONFIG_COLUMNS} FROM digest_configs WHERE guild_id = ? AND channel_id = ?"
        async with self._db.execute(sql, (guild_id, channel_id)) as cursor:
            row = await cursor.fetchone()
        return _config(row) if row else None

    async def configs(self, guild_id: int | None = None) -> list[DigestConfig]:
        """Every digest (of one server), in the order they were set up."""
        where, params = ("WHERE guild_id = ? ", (guild_id,)) if guild_id is not None else ("", ())
        async with self._db.execute(
            f"SELECT {_CONFIG_COLUMNS} FROM digest_configs {where}ORDER BY guild_id, created_at, channel_id",
            params,
        ) as cursor:
            return [_config(row) for row in await cursor.fetchall()]

    async def count_servers(self) -> int:
        async with self._db.execute("SELECT count(DISTINCT guild_id) FROM digest_configs") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def set_paused(
        self, guild_id: int, channel_id: int, paused: bool, reason: str | None, now: datetime
    ) -> bool:
        cursor = await self._db.execute(
            "UPDATE digest_configs SET paused = ?, pause_reason = ?, updated_at = ? "
            "WHERE guild_id = ? AND channel_id = ?",
            (int(paused), reason, now.isoformat(timespec="seconds"), guild_id, channel_id),
        )
        return cursor.rowcount > 0

    async def delete_config(self, guild_id: int, channel_id: int) -> None:
        await self._db.execute(
            "DELETE FROM digest_configs WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id)
        )

    async def remember_removed(self, config: DigestConfig, now: datetime) -> None:
        """The schedule of a digest being removed, whose ledger stays keyed on its zone's calendar."""
        await self._db.execute(
            "INSERT INTO removed_digest_zones (guild_id, channel_id, timezone, post_time, cadence, weekday, "
            "removed_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, channel_id) DO UPDATE SET "
            "timezone = excluded.timezone, post_time = excluded.post_time, cadence = excluded.cadence, "
            "weekday = excluded.weekday, removed_at = excluded.removed_at",
            (
                config.guild_id,
                config.channel_id,
                config.timezone,
                config.post_time.strftime("%H:%M"),
                config.cadence.value,
                config.weekday,
                instant(now),
            ),
        )

    async def take_removed(self, config: DigestConfig) -> DigestConfig | None:
        """The channel's removed digest's schedule (``config`` on its zone, time and cadence), if it
        had one, and forget it: the ledger is re-dated from it once."""
        sql = (
            "SELECT timezone, post_time, cadence, weekday FROM removed_digest_zones "
            "WHERE guild_id = ? AND channel_id = ?"
        )
        key = (config.guild_id, config.channel_id)
        async with self._db.execute(sql, key) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        await self._db.execute("DELETE FROM removed_digest_zones WHERE guild_id = ? AND channel_id = ?", key)
        return replace(
            config,
            timezone=str(row[0]),
            post_time=time.fromisoformat(str(row[1])),
            cadence=Cadence(row[2]),
            weekday=int(row[3]),
        )

    # ---- the post ledger -----------------------------------------------------------------------

    async def post(self, key: LedgerKey, post_day: date) -> PostRecord | None:
        sql = f"SELECT * FROM digest_posts WHERE {_ROW}"
        async with self._db.execute(sql, _row(key, post_day)) as cursor:
            row = await cursor.fetchone()
        return _post(row) if row else None

    async def unfinished(self, since: date) -> list[tuple[LedgerKey, date]]:
        """(digest, period) of every claim not finished yet, for periods from ``since`` on."""
        sql = (
            "SELECT guild_id, channel_id, cadence, post_day FROM digest_posts "
            "WHERE state = 'claimed' AND post_day >= ?"
        )
        async with self._db.execute(sql, (since.isoformat(),)) as cursor:
            return [
                (LedgerKey(int(row[0]), int(row[1]), Cadence(row[2])), date.fromisoformat(row[3]))
                for row in await cursor.fetchall()
            ]

    async def last_post(self, key: LedgerKey) -> PostRecord | None:
        sql = (
            "SELECT * FROM digest_posts WHERE guild_id = ? AND channel_id = ? AND cadence = ? "
            "ORDER BY post_day DESC LIMIT 1"
        )
        async with self._db.execute(sql, (key.guild_id, key.channel_id, key.cadence.value)) as cursor:
            row = await cursor.fetchone()
        return _post(row) if row else None

    async def claim(
        self,
        plan: DigestPlan,
        key: LedgerKey,
        post_day: date,
        *,
        owner: str,
        lease_until: datetime,
        now: datetime,
    ) -> PostRecord | None:
        """Claim the post of the period ``post_day`` for ``owner`` until ``lease_until``: a new claim
        stores ``plan``; an existing one is taken over only if its lease expired (or is ours),
        keeping its plan (whose own day differs once a change of time zone re-dated the row).
        None: another process holds a live lease on it."""
        row = _row(key, post_day)
        await self._db.execute(
            "INSERT INTO digest_posts (guild_id, channel_id, cadence, post_day, list_date, state, parts, "
            "claimed_at, plan) VALUES (?, ?, ?, ?, ?, 'claimed', ?, ?, ?) "
            "ON CONFLICT (guild_id, channel_id, cadence, post_day) DO NOTHING",
            (
                *row,
                plan.list_date.isoformat() if plan.list_date else None,
                plan.parts,
                instant(now),
                plan.to_json(),
            ),
        )
        # A row with no plan is a missed period /digest post-now reopened: this claim is its first,
        # so it takes the claim's time and list as a new claim would (its coverage is recorded too).
        cursor = await self._db.execute(
            "UPDATE digest_posts SET owner = ?, lease_until = ?, plan = coalesce(plan, ?), "
            "claimed_at = CASE WHEN plan IS NULL THEN ? ELSE claimed_at END, "
            "list_date = CASE WHEN plan IS NULL THEN ? ELSE list_date END, "
            "parts = CASE WHEN plan IS NULL THEN ? ELSE parts END "
            f"WHERE {_ROW} AND state = 'claimed' "
            "AND (owner = ? OR owner IS NULL OR lease_until IS NULL OR lease_until <= ?)",
            (
                owner,
                instant(lease_until),
                plan.to_json(),
                instant(now),
                plan.list_date.isoformat() if plan.list_date else None,
                plan.parts,
                *row,
                owner,
                instant(now),
            ),
        )
        if cursor.rowcount != 1:
            return None
        return await self.post(key, post_day)

    async def renew(self, key: LedgerKey, post_day: date, *, owner: str, lease_until: datetime) -> bool:
        """Extend ``owner``'s lease; False when it no longer holds it (stop sending)."""
        cursor = await self._db.execute(
            f"UPDATE digest_posts SET lease_until = ? WHERE {_ROW} AND owner = ? AND state = 'claimed'",
            (instant(lease_until), *_row(key, post_day), owner),
        )
        return cursor.rowcount == 1

    async def record_part(
        self, key: LedgerKey, post_day: date, part: int, message_id: int, *, owner: str, lease_until: datetime
    ) -> bool:
        """Record a sent part (renewing the lease); False when ``owner`` lost the lease."""
        with_part = self._db.dialect.json_put("message_ids")
        cursor = await self._db.execute(
            f"UPDATE digest_posts SET message_ids = {with_part}, lease_until = ? "
            f"WHERE {_ROW} AND owner = ? AND state = 'claimed'",
            (str(part), message_id, instant(lease_until), *_row(key, post_day), owner),
        )
        return cursor.rowcount == 1

    async def finish(
        self,
        key: LedgerKey,
        post_day: date,
        state: PostState,
        now: datetime,
        error: str | None = None,
        *,
        owner: str,
    ) -> bool:
        """Close ``owner``'s claim as posted, skipped or failed (the lease ends with it)."""
        cursor = await self._db.execute(
            "UPDATE digest_posts SET state = ?, error = ?, finished_at = ?, lease_until = NULL "
            f"WHERE {_ROW} AND owner = ? AND state = 'claimed'",
            (state, error, instant(now), *_row(key, post_day), owner),
        )
        return cursor.rowcount == 1

    async def release(self, key: LedgerKey, whole_since: date, *, started_since: date) -> None:
        """Let failed posts (channel gone, permission lost, a part refused) go out after all, once
        the admin fixed it: back to free claims that resume their frozen plans. Those of periods
        from ``whole_since`` on, and older ones from ``started_since`` on whose first parts are in
        the channel already (their other papers are the channel's since the claim: left failed,
        they never reach it). The rows (with the parts already sent) are never deleted, so nothing
        is posted twice."""
        await self._db.execute(
            "UPDATE digest_posts SET state = 'claimed', error = NULL, finished_at = NULL, owner = NULL, "
            "lease_until = NULL WHERE guild_id = ? AND channel_id = ? AND cadence = ? AND state = 'failed' "
            "AND (post_day >= ? OR (post_day >= ? AND message_ids <> '{}'))",
            (
                key.guild_id,
                key.channel_id,
                key.cadence.value,
                whole_since.isoformat(),
                started_since.isoformat(),
            ),
        )

    async def reopen_missed(self, key: LedgerKey, post_day: date) -> None:
        """Let /digest post-now post a period recorded as missed after all: a free claim again."""
        await self._db.execute(
            "UPDATE digest_posts SET state = 'claimed', error = NULL, finished_at = NULL, owner = NULL, "
            f"lease_until = NULL WHERE {_ROW} AND state = 'skipped' AND plan IS NULL AND error IS NOT NULL",
            _row(key, post_day),
        )

    async def messages_of_other_posts(self, key: LedgerKey, post_day: date, since: date) -> set[int]:
        """Message ids recorded for the digest's other posts from ``since`` on: a resume's scan for
        its parts by marker must not take another post's part carrying the same day for its own."""
        sql = (
            "SELECT message_ids FROM digest_posts WHERE guild_id = ? AND channel_id = ? AND cadence = ? "
            "AND post_day >= ? AND post_day <> ?"
        )
        params = (key.guild_id, key.channel_id, key.cadence.value, since.isoformat(), post_day.isoformat())
        async with self._db.execute(sql, params) as cursor:
            rows = await cursor.fetchall()
        return {int(message_id) for row in rows for message_id in json.loads(row[0]).values()}

    async def ledger_days(self, guild_id: int, channel_id: int) -> list[LedgerDay]:
        """Every ledger row of a channel's digests (both cadences)."""
        sql = (
            "SELECT cadence, post_day, claimed_at, state, plan IS NULL AND error IS NOT NULL "
            "FROM digest_posts WHERE guild_id = ? AND channel_id = ?"
        )
        async with self._db.execute(sql, (guild_id, channel_id)) as cursor:
            rows = await cursor.fetchall()
        return [
            LedgerDay(
                Cadence(r[0]),
                date.fromisoformat(str(r[1])),
                datetime.fromisoformat(str(r[2])),
                missed=str(r[3]) == PostState.SKIPPED and bool(r[4]),
            )
            for r in rows
        ]

    async def move_periods(
        self, guild_id: int, channel_id: int, moves: Mapping[tuple[Cadence, date], date]
    ) -> None:
        """Re-key rows of a channel's digests (call inside the settings' transaction): the ledger
        row, its coverage and its notice move together. Two steps, so that a move onto a key
        another moving row leaves never meets it on the way."""
        for table in _KEYED_BY_PERIOD:
            for step in ("aside", "home"):
                for (cadence, old), new in moves.items():
                    parked = f"moving {old.isoformat()}"
                    before, after = (
                        (old.isoformat(), parked) if step == "aside" else (parked, new.isoformat())
                    )
                    await self._db.execute(
                        f"UPDATE {table} SET post_day = ? WHERE {_ROW}",
                        (after, guild_id, channel_id, cadence.value, before),
                    )

    async def count_posted(self) -> int:
        async with self._db.execute("SELECT count(*) FROM digest_posts WHERE state = 'posted'") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0
