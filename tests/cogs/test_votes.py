"""Votes in Discord through simcord: a 👍 menu under digest posts counts the server's own votes
(one per member and paper, choosing again takes it back, answered privately), /papers top
scope:server ranks by them, and /digest setup votes:false turns the menu off."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.parsing.hf_api import parse_hf_api
from bot.services.container import Services
from tests.cogs.test_digest import FIXTURES, NEW_YEAR, digest_messages, server, until
from tests.cogs.test_save_buttons import menu_values
from tests.momentum_lists import Recorded, listed

VOTE_MENU = "vote-menu"


@pytest.fixture
async def env(world: Any, services: Services) -> Any:
    """The world with a recorded Hugging Face list on the day the digests post."""
    await services.papers.ingest(
        parse_hf_api((FIXTURES / "hf_daily_2024-07-31.json").read_bytes(), list_date=NEW_YEAR)
    )
    return world[0]


def menus(message: discord.Message) -> list[str]:
    """The custom ids of the message's select menus, row by row."""
    return [
        item.custom_id or ""
        for row in message.components
        if isinstance(row, discord.ActionRow)
        for item in row.children
        if isinstance(item, discord.SelectMenu)
    ]


def vote_values(message: discord.Message) -> list[str]:
    for row in message.components:
        if isinstance(row, discord.ActionRow):
            for item in row.children:
                if isinstance(item, discord.SelectMenu) and item.custom_id == VOTE_MENU:
                    return [option.value for option in item.options]
    return []


async def test_members_vote_once_per_paper_privately_and_top_scope_server_ranks_by_votes(
    env: Any,
) -> None:
    lab = server(env, "lab")
    other = server(env, "other")
    for place in (lab, other):
        await place.admin.slash(
            place.channel, "digest setup", channel=place.channel, time="09:00", timezone="UTC"
        )
    await until(env, 9, 0)
    [post] = digest_messages(lab.channel)
    assert menus(post) == ["save-menu", VOTE_MENU]  # two of Discord's five rows
    offered = vote_values(post)
    assert offered == menu_values(post) and 0 < len(offered) <= 25
    first, second = offered[0], offered[1]

    voted = await lab.member.select(post, [first], custom_id=VOTE_MENU)
    assert voted.ephemeral and voted.response.content.startswith("👍 Voted for “")
    assert "(1 vote in this server)" in voted.response.content
    again = await lab.admin.select(post, [first], custom_id=VOTE_MENU)
    assert "(2 votes in this server)" in again.response.content
    await lab.admin.select(post, [second], custom_id=VOTE_MENU)
    taken_back = await lab.member.select(post, [first], custom_id=VOTE_MENU)  # a second vote: taken back
    assert taken_back.ephemeral and "taken back (1 vote in this server)" in taken_back.response.content
    # The private answer's button votes again (a select keeps showing the choice just made).
    redo = await lab.member.click(taken_back.response.message, label="Vote again")
    assert redo.ephemeral and "(2 votes in this server)" in redo.response.content
    # Another server's votes are its own.
    [elsewhere] = digest_messages(other.channel)
    theirs = await other.member.select(elsewhere, [second], custom_id=VOTE_MENU)
    assert "(1 vote in this server)" in theirs.response.content

    ranked = await lab.member.slash(lab.channel, "papers top", scope="server")
    embed = ranked.response.embeds[0]
    assert embed.title == "Top papers of the week in this server"
    lines = (embed.description or "").splitlines()
    first_title = (await env.bot.services.papers.show(first)).title
    assert first_title[:40] in lines[2] and "👍 2 votes" in lines[3]
    assert "👍 1 vote" in lines[5]
    assert "Last vote <t:" in lines[0]
    hf = await lab.member.slash(lab.channel, "papers top")
    assert "in this server" not in (hf.response.embeds[0].title or "")


async def test_votes_are_paged_and_turned_off_by_setup(env: Any, services: Services) -> None:
    more = [Recorded(f"2601.{n:05d}", f"Voted paper number {n}", NEW_YEAR, lambda k: 1) for n in range(20)]
    await services.papers.ingest(listed(more, NEW_YEAR, lambda p: 0))
    lab = server(env, "lab")
    await lab.admin.slash(
        lab.channel, "digest setup", channel=lab.channel, time="09:00", timezone="UTC", max_papers=25
    )
    await until(env, 9, 0)
    posts = digest_messages(lab.channel)
    offered = [paper for post in posts for paper in vote_values(post)]
    assert len(offered) > 10
    post_of = {paper: post for post in posts for paper in vote_values(post)}
    for paper in offered[:12]:
        await lab.member.select(post_of[paper], [paper], custom_id=VOTE_MENU)
    ranked = await lab.member.slash(lab.channel, "papers top", scope="server")
    assert (ranked.response.embeds[0].footer.text or "").startswith("Page 1/2")

    off = await lab.admin.slash(
        lab.channel, "digest setup", channel=lab.channel, time="09:00", timezone="UTC", votes=False
    )
    fields = {f.name: f.value for f in off.response.embeds[0].fields}
    assert fields["Votes"] == "off"
    await lab.admin.slash(lab.channel, "digest post-now")
    shown = await lab.admin.slash(lab.channel, "digest show")
    assert {f.name: f.value for f in shown.response.embeds[0].fields}["Votes"] == "off"
    for post in digest_messages(lab.channel):
        if post.id not in {p.id for p in posts}:
            assert VOTE_MENU not in menus(post)
    stale = await lab.member.select(posts[0], [vote_values(posts[0])[0]], custom_id=VOTE_MENU)
    assert stale.ephemeral and "turned votes off" in stale.response.content


async def test_server_votes_need_a_server(env: Any) -> None:
    alice = env.create_user("alice-dm")
    answer = await alice.slash("papers top", scope="server")
    assert answer.ephemeral and "Votes count per server" in answer.response.content
    lab = server(env, "lab")
    empty = await lab.member.slash(lab.channel, "papers top", scope="server")
    assert empty.ephemeral and "has a vote in this server yet" in empty.response.content
    assert [type(e.original).__name__ for e in env.errors] == ["InvalidInput"]
