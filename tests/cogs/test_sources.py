"""Digests and the source schedule through simcord, on its virtual clock (2026-01-01 00:00 UTC at
the start), against a loopback Hugging Face API that counts what it is asked."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import discord

from bot.services.container import Services
from tests.hf_api import FakeHfApi, hf_item

NEW_YEAR = date(2026, 1, 1)
LIVE_SOURCES = True  # the services fetch from the loopback API of the hf_api fixture


def digest_posts(channel: Any) -> list[discord.Message]:
    return [
        m for m in channel.history() if m.embeds and (m.embeds[0].footer.text or "").startswith("digest ")
    ]


def text(message: discord.Message) -> str:
    return "\n".join(f"{e.title or ''}\n{e.description or ''}" for e in message.embeds)


async def at(env: Any, hour: int, minute: int = 0) -> None:
    target = datetime(2026, 1, 1, hour, minute, tzinfo=UTC)
    await env.advance_time((target - env.now()).total_seconds())


async def test_a_digest_set_up_two_minutes_ahead_posts_the_fetched_list(
    world: Any, hf_api: FakeHfApi
) -> None:
    env, channel, _, _ = world
    hf_api.add(NEW_YEAR, hf_item("2601.00007", "Sparse Mixtures of Tiny Experts", upvotes=12))
    admins = channel.guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True))
    admin = channel.guild.add_member(env.create_user("admin"), roles=[admins])
    await at(env, 9, 0)
    setup = await admin.slash(channel, "digest setup", channel=channel, time="09:02", timezone="UTC")
    assert setup.ephemeral and hf_api.requests == []  # nothing fetched yet: no digest lead, no schedule run
    await at(env, 9, 2)
    await env.bot.get_cog("Digest").post_due()
    [post] = digest_posts(channel)
    assert "Sparse Mixtures of Tiny Experts" in text(post)
    assert "No daily papers list has been fetched yet" not in text(post)
    assert hf_api.asked(NEW_YEAR) == 1
    shown = await admin.slash(channel, "papers stats")
    fields = {f.name: f.value for f in shown.response.embeds[0].fields}
    assert "1 paper" in fields["Last fetch"] and fields["Next fetch"].startswith("hf: <t:")
    assert " · hf-refresh: <t:" in fields["Next fetch"]  # the momentum refresh, same schedule
    # The post's two-day fetch went through the process's one Hugging Face budget.
    assert fields["Hugging Face calls"] == "2 of 500 in the last 5 minutes"


async def test_fifty_servers_posting_at_one_time_fetch_the_list_once(
    world: Any, services: Services, hf_api: FakeHfApi
) -> None:
    env = world[0]
    hf_api.add(NEW_YEAR, hf_item("2601.00008", "One List For Everyone", upvotes=3))
    channels = []
    for number in range(50):
        guild = env.create_guild(name=f"server {number}")
        channel = guild.create_text_channel("papers")
        channels.append(channel)
        await services.digests.configure(guild.id, channel.id, post_time="08:00", timezone="UTC")
    await at(env, 8, 0)
    await env.bot.get_cog("Digest").post_due()
    assert all(len(digest_posts(c)) == 1 for c in channels)
    assert all("One List For Everyone" in text(digest_posts(c)[0]) for c in channels)
    assert (
        hf_api.asked(NEW_YEAR) == 1 and len(hf_api.requests) == 2
    )  # today's and yesterday's list, once each


async def test_a_failing_source_before_a_post_gives_the_honest_note(world: Any, hf_api: FakeHfApi) -> None:
    env, channel, _, _ = world
    admins = channel.guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True))
    admin = channel.guild.add_member(env.create_user("admin"), roles=[admins])
    hf_api.failing = True
    await admin.slash(channel, "digest setup", channel=channel, time="07:00", timezone="UTC")
    await at(env, 7, 0)
    await env.bot.get_cog("Digest").post_due()
    [post] = digest_posts(channel)
    assert (
        "No daily papers list has been fetched yet. The last fetch from Hugging Face failed (01 Jan"
        in text(post)
    )
    # A public post: when, not the source's address or the exception (those are in the log).
    assert "http" not in text(post) and "Error" not in text(post) and "127.0.0.1" not in text(post)
    assert len(hf_api.requests) == 2  # tried once before posting, not once per tick
    await at(env, 7, 5)
    await env.bot.get_cog("Digest").post_due()
    assert len(hf_api.requests) == 2
