"""PostgreSQL restarting under a running bot, its pooled connections ended (pg_terminate_backend,
as a restart does) and new ones refused: every scheduled job says one WARNING for the outage, with
no traceback, and one line when it works again. The raw asyncpg errors (the ended pooled
connection's, then the refused connection's, then a rollback on a closed connection) reached the
jobs as they were: 2-3 lines a job a restart, each with a traceback, and apscheduler's own
traceback on every digest tick from the missed-day notices."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.services.container import Services
from bot.storage.postgres import STORE_UNREACHABLE, PostgresDatabase
from tests.backends import postgres_server, postgres_url  # noqa: F401 (fixtures)
from tests.services.test_digest_store_outage import admits

LIVE_SOURCES = True  # the source schedule's jobs need the fetcher
OUTAGE_TICKS = 4


@pytest.fixture
async def database(postgres_url: str) -> AsyncIterator[PostgresDatabase]:  # noqa: F811
    """These cogs on PostgreSQL (the cogs' fixtures run them on SQLite)."""
    store = await PostgresDatabase.open(postgres_url)
    yield store
    await store.close()


def jobs(env: Any) -> dict[str, Any]:
    """Each scheduled job of the running bot, as its timer calls it."""
    bot = env.bot
    return {
        "alerts": bot.get_cog("Follows").poll,
        "digests and notices": bot.get_cog("Digest").post_due,
        "source lease": bot.get_cog("Sources").keep_lease,
        "source schedule": bot.get_cog("Sources").run_due,
        "weekly picks": bot.get_cog("Library").weekly,
        "store refresh": bot.get_cog("Papers").watch,
    }


async def test_every_job_says_one_line_per_outage_and_one_when_it_works_again(
    world: Any,
    services: Services,
    postgres_url: str,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    env, channel, alice, _ = world
    await alice.slash(channel, "follow add", keyword="diffusion")
    await services.digests.configure(
        channel.guild.id, channel.id, post_time="09:00", timezone="UTC", max_papers=5
    )
    running = jobs(env)
    for job in running.values():  # each has run once against the store: its connections are pooled
        await job()

    caplog.clear()
    await admits(postgres_url, False)
    try:
        with caplog.at_level(logging.INFO):
            for _ in range(OUTAGE_TICKS):
                for job in running.values():
                    await job()
        down = [r for r in caplog.records if r.levelno >= logging.WARNING]
    finally:
        await admits(postgres_url, True)

    said = [r.getMessage() for r in down]
    assert len(said) == len(running), said  # one line a job for the whole outage
    # A write (the lease) says nothing was saved; a look-up, that the store is unreachable.
    assert all(line.count("cannot be reached") == 1 for line in said), said
    assert [r for r in down if r.exc_info] == []  # no traceback
    assert not any("apscheduler" in r.name for r in caplog.records)

    caplog.clear()
    with caplog.at_level(logging.INFO):
        for job in running.values():
            await job()
    back = [r.getMessage() for r in caplog.records if "works again" in r.getMessage()]
    assert len(back) == len(running), back
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_a_search_while_the_store_is_down_says_it_is_unreachable_not_that_nothing_was_saved(
    world: Any,
    postgres_url: str,  # noqa: F811
) -> None:
    """A search saves nothing: "nothing was saved" read as if it had tried a write."""
    env, channel, alice, _ = world
    found = await alice.slash(channel, "papers search", query="diffusion")
    assert found.response.embeds, found.response.content  # its connection is pooled

    await admits(postgres_url, False)
    try:
        refused = await alice.slash(channel, "papers search", query="pruning key cache")
    finally:
        await admits(postgres_url, True)
    assert refused.ephemeral
    assert refused.response.content == STORE_UNREACHABLE
    assert STORE_UNREACHABLE == (
        "The store is unreachable: its database server cannot be reached (stopped or restarting). "
        "Try again shortly."
    )
    assert [type(e.original).__name__ for e in env.errors] == ["StorageUnavailable"]
