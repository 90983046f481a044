"""A digest post Discord refuses for good (a 400: the server's AutoMod blocking a paper's title,
its harmful-links filter, an invalid form) is never retried tick after tick in silence: the post
stops as not posted with Discord's reason, the digest pauses, the admin is told once, and
/digest resume (once the server lets the bot through) posts it, once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.domain.schedule import LedgerKey
from cogs._poster import refused_for_good
from tests.cogs.test_delivery_matrix import DAY, TITLE, Deployment, counted, deployment, papers
from tests.cogs.test_digest import NEW_YEAR, cog, digest_messages, server, until
from tests.cogs.test_missed_digests import shown
from tests.delivery_cells import DIGEST_PAPERS

__all__ = ["deployment"]  # the delivery matrix's fixture, used here
SAMPLE_PAPERS = False  # the lists these tests post are their own

REFUSALS = {
    200000: ("Message was blocked by automatic moderation", "AutoMod blocked the post"),
    240000: ("Message blocked by harmful links filter", "AutoMod blocked the post"),
    50035: ("Invalid Form Body", "Discord refused the post (error 50035"),
}


def refused_posts(env: Any, channel: Any) -> list[dict[str, Any]]:
    return [f for f in env.backend.faults if str(channel.id) in f["path"]]


async def a_three_part_digest(env: Any, channel: Any, services: Any) -> tuple[Any, Any]:
    """An admin of ``channel``'s server, and its digest of DAY planned in three parts."""
    mods = channel.guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
    admin = channel.guild.add_member(env.create_user("mod"), roles=[mods])
    await services.papers.ingest(papers(DIGEST_PAPERS[3]))
    await services.digests.configure(
        channel.guild.id, channel.id, post_time="09:00", timezone="UTC", max_papers=DIGEST_PAPERS[3]
    )
    planned = await services.digests.plan(await services.digests.require(channel.guild.id), DAY)
    assert planned.parts == 3
    return admin, planned


def blocked_by_automod(env: Any, channel: Any) -> None:
    """From now on the server's AutoMod refuses every post of the bot in ``channel``."""
    env.inject_error(
        "POST",
        f"/channels/{channel.id}/messages",
        status=400,
        code=200000,
        message="Message was blocked by automatic moderation",
        times=None,
    )


def planned_titles(planned: Any) -> Counter[str]:
    """Each planned paper's title, as many times as the plan holds it."""
    return Counter(
        p for m in planned.messages for p in TITLE.findall(" ".join(e.description for e in m.embeds))
    )


@pytest.mark.parametrize("code", sorted(REFUSALS))
async def test_a_post_discord_refuses_for_good_pauses_the_digest_and_tells_its_admin_once(
    digest_env: Any, code: int
) -> None:
    env = digest_env
    s = server(env, "lab")
    lobby = s.guild.create_text_channel("lobby")
    await s.admin.slash(s.channel, "digest setup", channel=s.channel, time="09:00", timezone="UTC")
    text, why = REFUSALS[code]
    env.inject_error(
        "POST", f"/channels/{s.channel.id}/messages", status=400, code=code, message=text, times=None
    )
    await until(env, 9, 0)
    for minutes in (1, 2, 30, 240):  # the scheduler's ticks through the day
        await until(env, 9 + minutes // 60, minutes % 60)

    fields = await shown(s, lobby)
    assert "Paused" in fields["Status"] and why in fields["Why paused"]
    assert fields["Not posted"].startswith("Thu 01 Jan: ") and why in fields["Not posted"]
    await cog(env).post_due()
    told = [m for m in s.admin.user.dm_channel.history() if m.embeds]
    assert len(told) == 1 and why in (told[0].embeds[0].description or "")
    assert digest_messages(s.channel) == []

    # The admin lets the bot through and resumes: the day's post goes out, once.
    env.backend.faults[:] = [f for f in env.backend.faults if f not in refused_posts(env, s.channel)]
    await env.advance_time(timedelta(minutes=5).total_seconds())
    await s.admin.slash(lobby, "digest resume", channel=str(s.channel.id))
    await until(env, 20, 0, NEW_YEAR)
    await until(env, 21, 0, NEW_YEAR)
    assert len(digest_messages(s.channel)) == 1
    assert "Paused" not in (await shown(s, lobby))["Status"]


async def test_a_part_refused_by_automod_midway_keeps_the_rest_of_the_plan_for_the_resume(
    world: Any, deployment: Deployment
) -> None:
    """Part 2 of 3 is blocked: part 1 stays, the digest pauses, nothing is sent again on later
    ticks; once the admin exempts the bot and resumes, parts 2 and 3 of the same plan go out, so
    every planned paper reaches the channel once (they were recorded as the channel's at the claim:
    no later post would carry them)."""
    env, channel, _, _ = world
    services = deployment.first
    admin, planned = await a_three_part_digest(env, channel, services)
    poster = cog(env).poster
    original = poster.send
    sent = {"parts": 0}

    async def send(target: int, message: Any, *, nonce: str) -> int:
        sent["parts"] += 1
        if sent["parts"] == 2:  # from part 2 on, the server's AutoMod blocks the bot's posts
            blocked_by_automod(env, channel)
        return await original(target, message, nonce=nonce)

    poster.send = send
    for _ in range(3):  # the post time and the ticks after it
        await cog(env).post_due()
        await env.advance_time(60)
    assert [m.embeds[0].footer.text for m in digest_messages(channel)] == [f"digest {DAY} · 1 of 3"]
    assert sent["parts"] == 2  # refused once, not again on every tick

    env.backend.faults.clear()
    await admin.slash(channel, "digest resume")
    await cog(env).post_due()
    await cog(env).post_due()
    posted = digest_messages(channel)
    footers = Counter(m.embeds[0].footer.text for m in posted)
    assert footers == Counter(f"digest {DAY} · {k} of 3" for k in (1, 2, 3))
    assert counted(posted) == planned_titles(planned)
    record = await services.repositories.digests.post(LedgerKey(channel.guild.id, channel.id), DAY)
    assert record is not None and record.state == "posted"


@pytest.mark.parametrize(
    ("status", "code", "for_good"),
    [
        *[(400, 200000, True), (400, 240000, True), (400, 50035, True), (413, 40005, True)],
        *[(401, 0, False), (408, 0, False), (429, 20016, False), (500, 0, False), (503, 0, False)],
    ],
)
def test_only_a_refusal_of_the_message_itself_stops_the_post(status: int, code: int, for_good: bool) -> None:
    """A rate limit (slowmode's 20016 included), a timeout, Discord failing or the bot's token
    refused pass or need the owner, not the server's admin: the claim stays open and is resumed."""
    answer = SimpleNamespace(status=status, reason="refused")
    assert refused_for_good(discord.HTTPException(answer, {"code": code, "message": "refused"})) is for_good


@pytest.mark.parametrize("days_later", [2, 6])
async def test_a_resume_days_after_the_refusal_still_sends_the_rest_of_the_plan(
    world: Any, deployment: Deployment, days_later: int
) -> None:
    """The admin told on a Thursday fixes AutoMod and resumes on the Saturday (or a week on):
    parts 2 and 3 of Thursday's plan still go out, once. Resume released only yesterday's and
    today's posts, so those papers (the channel's since the claim) never reached it."""
    env, channel, _, _ = world
    services = deployment.first
    admin, planned = await a_three_part_digest(env, channel, services)
    poster = cog(env).poster
    original = poster.send

    async def send(target: int, message: Any, *, nonce: str) -> int:
        sent = await original(target, message, nonce=nonce)
        blocked_by_automod(env, channel)  # part 1 went out; from part 2 on AutoMod blocks the bot
        return sent

    poster.send = send
    await cog(env).post_due()
    poster.send = original
    assert [m.embeds[0].footer.text for m in digest_messages(channel)] == [f"digest {DAY} · 1 of 3"]

    env.backend.faults.clear()
    await env.advance_time(timedelta(days=days_later).total_seconds())
    await admin.slash(channel, "digest resume")
    await cog(env).post_due()
    posted = [m for m in digest_messages(channel) if f"digest {DAY}" in m.embeds[0].footer.text]
    assert Counter(m.embeds[0].footer.text for m in posted) == Counter(
        f"digest {DAY} · {k} of 3" for k in (1, 2, 3)
    )
    assert counted(posted) == planned_titles(planned)
