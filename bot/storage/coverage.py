"""What each digest post covered (its source days) and the papers each channel has received."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from bot.domain.coverage import Coverage
from bot.domain.schedule import Cadence, LedgerKey
from bot.storage.connection import Connection


class CoverageRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def record(self, key: LedgerKey, post_day: date, cover: Coverage, paper_pks: Sequence[int]) -> None:
        """What a post covers and carries (call inside the claim's transaction)."""
        guild_id, channel_id = key.guild_id, key.channel_id
        await self._db.execute(
            "INSERT INTO digest_coverage (guild_id, channel_id, cadence, post_day, first_day, last_day, "
            "mode, papers) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id, channel_id, cadence, post_day) DO NOTHING",
            (
                guild_id,
                channel_id,
                key.cadence.value,
                post_day.isoformat(),
                cover.days[0].isoformat(),
                cover.last.isoformat(),
                cover.mode.value,
                len(paper_pks),
            ),
        )
        await self._db.executemany(
            "INSERT INTO digest_posted_papers (channel_id, paper_pk, guild_id, post_day, position) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_id, paper_pk) DO NOTHING",
            [(channel_id, pk, guild_id, post_day.isoformat(), n) for n, pk in enumerate(paper_pks, 1)],
        )

    async def last_covered(
        self, guild_id: int, channel_id: int, cadence: Cadence | None = None
    ) -> date | None:
        """The last source day a post of this digest (server and channel; of one cadence) covered."""
        sql = "SELECT max(last_day) FROM digest_coverage WHERE guild_id = ? AND channel_id = ?"
        params: tuple[object, ...] = (guild_id, channel_id)
        if cadence is not None:
            sql += " AND cadence = ?"
            params += (cadence.value,)
        async with self._db.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return date.fromisoformat(row[0]) if row and row[0] else None

    async def posted(self, channel_id: int, paper_pks: Sequence[int]) -> set[int]:
        """Which of ``paper_pks`` a post already carried to ``channel_id``."""
        sql = (
            "SELECT paper_pk FROM digest_posted_papers WHERE channel_id = ? "
            f"AND paper_pk IN ({self._db.dialect.ints()})"
        )
        async with self._db.execute(sql, (channel_id, json.dumps(list(paper_pks)))) as cursor:
            return {int(row[0]) for row in await cursor.fetchall()}
