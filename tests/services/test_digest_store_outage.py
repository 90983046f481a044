"""PostgreSQL restarting (or refusing connections) under a running bot: the digest tick cannot even
read which digests are due. It logged apscheduler's "Job Digest.post_due raised an exception" with
a whole traceback on every tick for as long as the outage lasted; now a line when it starts (and when
its reason changes), one when it works again, and the due post goes out once the server is back."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

import asyncpg
import pytest

from bot.domain.models import ListedPaper
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.postgres import PostgresDatabase
from tests.backends import postgres_server, postgres_url  # noqa: F401 (fixtures)
from tests.conftest import FIXED_NOW
from tests.postgres_server import database_url
from tests.services.test_digest_fanout import RecordingPoster

TICKS = 5


async def admits(url: str, allowed: bool) -> None:
    """Let the database take connections, or end them as a restart does and refuse new ones."""
    name = urlsplit(url).path.lstrip("/")
    admin = await asyncpg.connect(database_url(url, "postgres"))
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
    finally:
        await admin.close()


async def test_ticks_while_the_store_is_down_log_one_line_then_post_once_it_is_back(
    postgres_url: str,  # noqa: F811
    sample_papers: list[ListedPaper],
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = await PostgresDatabase.open(postgres_url)
    try:
        services = await Services.open(store, Settings(), clock=lambda: FIXED_NOW)
        await services.papers.ingest(sample_papers)
        await services.digests.configure(1, 1001, post_time="12:00", timezone="UTC", max_papers=5)
        poster = RecordingPoster()
        await admits(postgres_url, False)
        try:
            with caplog.at_level(logging.INFO, logger="bot.services.digest"):
                for _ in range(TICKS):
                    assert await services.digests.run_due(poster) == []
        finally:
            await admits(postgres_url, True)
        lines = [r.getMessage() for r in caplog.records if r.name == "bot.services.digest"]
        # One line for the outage: the pool's ended connection and then the server refusing new
        # ones are the same store being unreachable (they were a line each), never a line per tick.
        assert lines == [
            "looking for due digests failed: The store is unreachable: its database server cannot be "
            "reached (stopped or restarting). Try again shortly. (retrying; logged again only as a "
            "reminder every 10 min or when it works)"
        ]
        assert poster.sent == {}

        caplog.clear()
        with caplog.at_level(logging.INFO, logger="bot.services.digest"):
            [posted] = await services.digests.run_due(poster)
        assert posted.state == "posted" and poster.sent == {1001: 1}
        [cleared] = [r.getMessage() for r in caplog.records if r.name == "bot.services.digest"]
        assert re.fullmatch(r"looking for due digests works again after [1-5] failed tries in \d+ s", cleared)
    finally:
        await store.close()
