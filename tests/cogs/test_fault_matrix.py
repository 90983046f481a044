"""The fault matrix (docs/reliability.md): for each fault, nothing is posted twice, nothing is lost once
the fault clears, the bot stays up, and an admin can see what happened.

A kill is simulated by raising ``Killed`` (a BaseException: nothing catches it, uncommitted work is
lost as with SIGKILL) at a chosen step, then restarting the bot on the same database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
from aiohttp import web

from bot.client import PaperBot
from bot.domain.models import ListedPaper, Paper, Source
from bot.domain.schedule import LedgerKey
from bot.parsing.hf_api import parse_hf_api
from bot.services.container import Services
from bot.services.fetching import FetchService
from bot.sources.feeds import HuggingFaceSource
from bot.sources.http import HttpClient, RetryPolicy
from tests.loopback import loopback_server

FIXTURES = Path(__file__).parent.parent / "fixtures"
NEW_YEAR = date(2026, 1, 1)


class Killed(BaseException):
    """The process died here."""


def kill_once(target: Any, name: str, *, after: bool = False) -> None:
    """Make ``target.name`` die on its first call: before doing its work, or right after it."""
    original = getattr(target, name)
    state = {"armed": True}

    async def dying(*args: Any, **kwargs: Any) -> Any:
        if state["armed"] and not after:
            state["armed"] = False
            raise Killed(name)
        result = await original(*args, **kwargs)
        if state["armed"]:
            state["armed"] = False
            raise Killed(name)
        return result

    setattr(target, name, dying)


async def restart(env: Any, services: Services) -> None:
    await env.restart_bot(PaperBot(services=services, settings=env.bot.settings))


async def at(env: Any, hour: int, minute: int = 0, day: date = NEW_YEAR) -> None:
    target = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
    await env.advance_time((target - env.now()).total_seconds())


def digest_posts(channel: Any) -> list[Any]:
    return [
        m for m in channel.history() if m.embeds and (m.embeds[0].footer.text or "").startswith("digest ")
    ]


def dms(member: Any) -> list[Any]:
    return [m for m in member.user.dm_channel.history() if m.embeds]


@pytest.fixture
async def digest_world(world: Any, services: Services) -> Any:
    env, channel, alice, bob = world
    await services.papers.ingest(
        parse_hf_api((FIXTURES / "hf_daily_2024-07-31.json").read_bytes(), list_date=NEW_YEAR)
    )
    await services.digests.configure(channel.guild.id, channel.id, post_time="09:00", timezone="UTC")
    await at(env, 9, 0)
    return env, channel, alice, bob


@pytest.mark.parametrize(
    ("step", "after"),
    [
        ("claim", True),  # killed right after claiming, before anything was sent
        ("record_part", False),  # killed after the message went out, before it was recorded
        ("finish", False),  # killed after every part was recorded, before the confirmation
    ],
)
async def test_digest_killed_at_each_step_posts_exactly_once(
    digest_world: Any, services: Services, step: str, after: bool
) -> None:
    env, channel, _, _ = digest_world
    kill_once(services.digests.repository, step, after=after)
    with pytest.raises(Killed):
        await env.bot.get_cog("Digest").post_due()
    await restart(env, services)
    await env.bot.get_cog("Digest").post_due()
    await env.bot.get_cog("Digest").post_due()
    assert len(digest_posts(channel)) == 1
    record = await services.digests.repository.post(LedgerKey(channel.guild.id, channel.id), NEW_YEAR)
    assert record is not None and record.state == "posted"


async def test_discord_500s_on_channel_posts_delay_the_digest_but_lose_nothing(
    digest_world: Any, services: Services
) -> None:
    env, channel, _, _ = digest_world
    # simcord stands in for discord.py's HTTP layer, so each run meets one 500 (no transport retries).
    env.inject_error("POST", "/channels/*/messages", status=500, times=2)
    for _ in range(2):
        await env.bot.get_cog("Digest").post_due()  # fails; the bot stays up, the claim waits
    assert digest_posts(channel) == []
    assert (
        await services.digests.repository.post(LedgerKey(channel.guild.id, channel.id), NEW_YEAR)
    ).state == "claimed"
    await env.bot.get_cog("Digest").post_due()  # the fault cleared: posted, once
    await env.bot.get_cog("Digest").post_due()
    assert len(digest_posts(channel)) == 1


@pytest.mark.parametrize("step", ["claim", "record_part"])
async def test_alerts_killed_at_each_step_arrive_exactly_once(
    world: Any, services: Services, step: str
) -> None:
    env, channel, alice, _ = world
    await alice.slash(channel, "follow add", keyword="diffusion")
    await services.papers.ingest(
        [
            ListedPaper(
                Paper(
                    title="Diffusion Everywhere",
                    abstract="Diffusion.",
                    source=Source.HF_API,
                    arxiv_id="2601.00042",
                )
            )
        ]
    )
    # claim: killed after the batch was opened, before sending; record_part: after sending, before recording.
    target = services.alerts if step == "claim" else services.repositories.follows
    kill_once(target, step, after=step == "claim")
    with pytest.raises(Killed):
        await env.bot.get_cog("Follows").deliver_alerts()
    await restart(env, services)
    await env.bot.get_cog("Follows").deliver_alerts()
    await env.bot.get_cog("Follows").deliver_alerts()
    assert len(dms(alice)) == 1 and "Diffusion Everywhere" in dms(alice)[0].embeds[1].description


async def test_discord_500s_on_dms_are_retried_later_without_loss(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    await alice.slash(channel, "follow add", keyword="diffusion")
    await services.papers.ingest(
        [
            ListedPaper(
                Paper(title="Diffusion Again", abstract="More.", source=Source.HF_API, arxiv_id="2601.00043")
            )
        ]
    )
    env.inject_error("POST", "/channels/*/messages", status=500, times=1)
    await env.bot.get_cog("Follows").deliver_alerts()  # logged; the batch waits for the next poll
    assert dms(alice) == []
    await env.bot.get_cog("Follows").deliver_alerts()
    await env.bot.get_cog("Follows").deliver_alerts()
    assert len(dms(alice)) == 1


@pytest.fixture
async def broken_source() -> AsyncIterator[Callable[[str], Any]]:
    async with AsyncExitStack() as stack:

        async def start(kind: str) -> str:
            async def handle(_: web.Request) -> web.Response:
                if kind == "html":
                    return web.Response(text="<html>Sign in</html>", content_type="text/html")
                if kind == "truncated":
                    return web.Response(body=b'[{"paper": {"id": "2601', content_type="application/json")
                return web.Response(status=503, text="down")

            return await stack.enter_async_context(loopback_server(handle)) + "/api/daily_papers"

        yield start


@pytest.mark.parametrize("kind", ["down", "html", "truncated"])
async def test_a_failing_source_is_visible_and_never_reposts_old_papers(
    digest_world: Any, services: Services, broken_source: Any, kind: str
) -> None:
    env, channel, _, _ = digest_world
    mod_role = channel.guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
    mod = channel.guild.add_member(env.create_user("mod"), roles=[mod_role])
    await env.bot.get_cog("Digest").post_due()  # today's list is posted
    async with aiohttp.ClientSession() as session:

        async def no_wait(_: float) -> None:
            return None

        http = HttpClient(session, retry=RetryPolicy(attempts=2), sleep=no_wait)
        services.fetcher = FetchService(
            services.papers,
            services.database,
            services.repositories.fetches,
            HuggingFaceSource(http, base_url=await broken_source(kind)),
            leases=services.repositories.leases,
        )
        assert await env.bot.get_cog("Sources").run_due() == 0  # the schedule's job: logs, does not crash
    shown = await mod.slash(channel, "digest show")
    fields = {f.name: f.value for f in shown.response.embeds[0].fields}
    assert "failed" in fields["Last fetch"]
    await at(env, 9, 0, NEW_YEAR + timedelta(days=1))
    await env.bot.get_cog("Digest").post_due()
    posts = digest_posts(channel)
    assert len(posts) == 2
    note = posts[-1].embeds[0].description
    assert "No new papers since" in note and "The last fetch from Hugging Face failed" in note
    assert "ThinK" not in "".join(e.description or "" for e in posts[-1].embeds)  # old papers not reposted
