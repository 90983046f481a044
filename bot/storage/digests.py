"""Digest settings per server and the exactly-once post ledger."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time

import aiosqlite

from bot.domain.delivery import PostState
from bot.domain.schedule import DigestConfig
from bot.storage.database import RoutedConnection

_CONFIG_COLUMNS = (
    "guild_id, channel_id, post_time, timezone, max_papers, weekdays_only, thread, source, paused, "
    "pause_reason"
)


@dataclass(frozen=True, slots=True)
class PostRecord:
    guild_id: int
    post_day: date
    list_date: date | None
    state: PostState
    parts: int
    message_ids: dict[int, int]
    error: str | None
    finished_at: datetime | None


def _config(row: aiosqlite.Row) -> DigestConfig:
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
    )


def _post(row: aiosqlite.Row) -> PostRecord:
    return PostRecord(
        guild_id=row["guild_id"],
        post_day=date.fromisoformat(row["post_day"]),
        list_date=date.fromisoformat(row["list_date"]) if row["list_date"] else None,
        state=PostState(row["state"]),
        parts=row["parts"],
        message_ids={int(k): int(v) for k, v in json.loads(row["message_ids"]).items()},
        error=row["error"],
        finished_at=datetime.fromisoformat(row["finished_at"]) if row["finished_at"] else None,
    )


class DigestRepository:
    def __init__(self, connection: RoutedConnection) -> None:
        self._db = connection

    # ---- settings ----------------------------------------------------------------------------

    async def save_config(self, config: DigestConfig, now: datetime) -> None:
        stamp = now.isoformat(timespec="seconds")
        await self._db.execute(
            f"INSERT INTO digest_configs ({_CONFIG_COLUMNS}, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET channel_id = excluded.channel_id, "
            "post_time = excluded.post_time, timezone = excluded.timezone, max_papers = excluded.max_papers, "
            "weekdays_only = excluded.weekdays_only, thread = excluded.thread, source = excluded.source, "
            "paused = excluded.paused, pause_reason = excluded.pause_reason, "
            "updated_at = excluded.updated_at",
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
                stamp,
                stamp,
            ),
        )

    async def config(self, guild_id: int) -> DigestConfig | None:
        sql = f"SELECT {_CONFIG_COLUMNS} FROM digest_configs WHERE guild_id = ?"
        async with self._db.execute(sql, (guild_id,)) as cursor:
            row = await cursor.fetchone()
        return _config(row) if row else None

    async def configs(self) -> list[DigestConfig]:
        async with self._db.execute(
            f"SELECT {_CONFIG_COLUMNS} FROM digest_configs ORDER BY guild_id"
        ) as cursor:
            return [_config(row) for row in await cursor.fetchall()]

    async def set_paused(self, guild_id: int, paused: bool, reason: str | None, now: datetime) -> bool:
        cursor = await self._db.execute(
            "UPDATE digest_configs SET paused = ?, pause_reason = ?, updated_at = ? WHERE guild_id = ?",
            (int(paused), reason, now.isoformat(timespec="seconds"), guild_id),
        )
        return cursor.rowcount > 0

    async def delete_config(self, guild_id: int) -> None:
        await self._db.execute("DELETE FROM digest_configs WHERE guild_id = ?", (guild_id,))

    # ---- the post ledger -----------------------------------------------------------------------

    async def post(self, guild_id: int, post_day: date) -> PostRecord | None:
        sql = "SELECT * FROM digest_posts WHERE guild_id = ? AND post_day = ?"
        async with self._db.execute(sql, (guild_id, post_day.isoformat())) as cursor:
            row = await cursor.fetchone()
        return _post(row) if row else None

    async def last_post(self, guild_id: int) -> PostRecord | None:
        sql = "SELECT * FROM digest_posts WHERE guild_id = ? ORDER BY post_day DESC LIMIT 1"
        async with self._db.execute(sql, (guild_id,)) as cursor:
            row = await cursor.fetchone()
        return _post(row) if row else None

    async def was_list_posted(self, guild_id: int, list_date: date, before: date) -> bool:
        sql = (
            "SELECT 1 FROM digest_posts WHERE guild_id = ? AND list_date = ? AND post_day < ? "
            "AND state = 'posted' LIMIT 1"
        )
        async with self._db.execute(sql, (guild_id, list_date.isoformat(), before.isoformat())) as cursor:
            return await cursor.fetchone() is not None

    async def claim(
        self, guild_id: int, post_day: date, list_date: date | None, parts: int, now: datetime
    ) -> PostRecord:
        """Claim the day's post (or return the claim a previous run left behind)."""
        await self._db.execute(
            "INSERT INTO digest_posts (guild_id, post_day, list_date, state, parts, claimed_at) "
            "VALUES (?, ?, ?, 'claimed', ?, ?) ON CONFLICT (guild_id, post_day) DO NOTHING",
            (
                guild_id,
                post_day.isoformat(),
                list_date.isoformat() if list_date else None,
                parts,
                now.isoformat(),
            ),
        )
        record = await self.post(guild_id, post_day)
        assert record is not None
        return record

    async def record_part(self, guild_id: int, post_day: date, part: int, message_id: int) -> None:
        await self._db.execute(
            "UPDATE digest_posts SET message_ids = json_set(message_ids, '$.' || ?, ?) "
            "WHERE guild_id = ? AND post_day = ?",
            (str(part), message_id, guild_id, post_day.isoformat()),
        )

    async def finish(
        self, guild_id: int, post_day: date, state: PostState, now: datetime, error: str | None = None
    ) -> None:
        await self._db.execute(
            "UPDATE digest_posts SET state = ?, error = ?, finished_at = ? "
            "WHERE guild_id = ? AND post_day = ?",
            (state, error, now.isoformat(), guild_id, post_day.isoformat()),
        )

    async def release(self, guild_id: int, post_day: date) -> None:
        """Forget a failed claim so that a resumed digest may post the day after all."""
        await self._db.execute(
            "DELETE FROM digest_posts WHERE guild_id = ? AND post_day = ? AND state = 'failed'",
            (guild_id, post_day.isoformat()),
        )

    async def count_posted(self) -> int:
        async with self._db.execute("SELECT count(*) FROM digest_posts WHERE state = 'posted'") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0
