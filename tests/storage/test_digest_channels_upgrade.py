"""Upgrading a store at version 13 (one digest per server) to digests per channel: every server
keeps its one digest, the post it already made is not made again, an interrupted post resumes
exactly its frozen plan, and the next post starts right after the last covered day."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from bot.domain.delivery import PostState
from bot.domain.digest import DigestMessage, plan_digest
from bot.domain.schedule import LedgerKey
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.database import bundled_migrations
from tests.backends import Opener

TODAY = date(2026, 8, 1)
STAMP = "2026-08-01T09:00:00.000000+00:00"


class RecordingPoster:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str, str]] = []  # channel, nonce, header

    async def find_parts(self, channel_id: int, marker: str, *, since: datetime) -> dict[int, int]:
        return {}

    async def send(self, channel_id: int, message: DigestMessage, *, nonce: str) -> int:
        self.sent.append((channel_id, nonce, message.embeds[0].description))
        return 9000 + len(self.sent)

    async def open_thread(self, channel_id: int, message_id: int, name: str) -> None:
        return None


async def _version_13_store(open_store: Opener, backend: str) -> None:
    """What paperbot at migration 13 left: two servers' digests, one posted today, one claimed
    (its process died before sending), and the first one's coverage."""
    old = await open_store(migrations=bundled_migrations(backend)[:13])
    interrupted = plan_digest(
        TODAY, None, [], source="hf-api", max_papers=5, note="Frozen before the upgrade"
    )
    async with old.transaction():
        for guild, channel in ((1, 10), (2, 20)):
            await old.connection.execute(
                "INSERT INTO digest_configs (guild_id, channel_id, post_time, timezone, max_papers, "
                "created_at, updated_at) VALUES (?, ?, '09:00', 'UTC', 5, ?, ?)",
                (guild, channel, STAMP, STAMP),
            )
        await old.connection.execute(
            "INSERT INTO digest_posts (guild_id, post_day, list_date, state, parts, message_ids, claimed_at, "
            "finished_at) VALUES (1, ?, '2026-07-31', 'posted', 1, ?, ?, ?)",
            (TODAY.isoformat(), json.dumps({"1": 555}), STAMP, STAMP),
        )
        await old.connection.execute(
            "INSERT INTO digest_coverage (guild_id, post_day, first_day, last_day, mode, papers) "
            "VALUES (1, ?, '2026-07-31', '2026-07-31', 'complete', 3)",
            (TODAY.isoformat(),),
        )
        await old.connection.execute(
            "INSERT INTO digest_posts (guild_id, post_day, state, parts, claimed_at, plan) "
            "VALUES (2, ?, 'claimed', 1, ?, ?)",
            (TODAY.isoformat(), STAMP, interrupted.to_json()),
        )
    await old.close()


async def test_upgrade_keeps_each_servers_digest_without_repost_or_gap(store_at: tuple[Opener, str]) -> None:
    open_store, backend = store_at
    await _version_13_store(open_store, backend)
    now = [datetime(2026, 8, 1, 12, 0, tzinfo=UTC)]
    database = await open_store()
    try:
        assert await database.schema_version() == len(bundled_migrations(backend))
        services = await Services.open(database, Settings(), clock=lambda: now[0])
        digests = services.digests
        configs = await digests.configs()
        assert [(c.guild_id, c.channel_id, c.topic, c.cadence) for c in configs] == [
            (1, 10, None, "daily"),
            (2, 20, None, "daily"),
        ]
        posted = await digests.repository.post(LedgerKey(1, 10), TODAY)
        assert posted is not None and posted.state is PostState.POSTED and posted.message_ids == {1: 555}

        poster = RecordingPoster()
        outcomes = await digests.run_due(poster)
        # Server 1 posted today before the upgrade: nothing again. Server 2's interrupted post
        # resumes its frozen plan, in its channel, once.
        assert [(o.guild_id, o.state) for o in outcomes] == [(2, "posted")]
        assert len(poster.sent) == 1
        channel, nonce, header = poster.sent[0]
        assert channel == 20 and "Frozen before the upgrade" in header and len(nonce) <= 25
        assert await digests.run_due(poster) == [] and len(poster.sent) == 1

        # The next post starts right after the last day covered before the upgrade: no gap, no repeat.
        now[0] += timedelta(days=1)
        cover, first_post = await digests.coverage_of(configs[0], TODAY + timedelta(days=1))
        assert cover.days == (TODAY,) and not first_post
    finally:
        await database.close()
