"""Buttons and menus that promise to work on old messages keep working after the bot restarts: the
digest's Save and Vote menus, an alert DM's Save menu, Save, Similar and the keyword menu under a
paper, the Save menu of a similar answer and the vote answer's button. Each is a dynamic item its
cog registers at start, not a view of the process that sent it. Pages kept in memory (a search's)
say they expired."""

from __future__ import annotations

from typing import Any

from bot.client import PaperBot
from bot.parsing.hf_api import parse_hf_api
from bot.services.container import Services
from cogs._views import EXPIRED
from tests.cogs.test_digest import FIXTURES, NEW_YEAR, digest_messages, server, until
from tests.cogs.test_follows import BATCH, dms, ingest_and_deliver
from tests.cogs.test_save_buttons import menu_values, saved_ids
from tests.cogs.view_memory import NOTHING_KEPT, views_kept


def keyword_options(message: Any) -> list[str]:
    return [
        option["value"]
        for row in message.components
        for item in row["components"]
        if item.get("custom_id") == "follow-keyword"
        for option in item["options"]
    ]


async def test_every_lasting_button_answers_after_a_restart_and_an_hour(
    world: Any, services: Services
) -> None:
    env, channel, alice, bob = world
    await services.papers.ingest(
        parse_hf_api((FIXTURES / "hf_daily_2024-07-31.json").read_bytes(), list_date=NEW_YEAR)
    )
    lab = server(env, "lab")
    await lab.admin.slash(lab.channel, "digest setup", channel=lab.channel, time="09:00", timezone="UTC")
    await until(env, 9, 0)
    [post] = digest_messages(lab.channel)
    offered = menu_values(post)
    voted = await lab.member.select(post, [offered[0]], custom_id="vote-menu")
    assert "(1 vote in this server)" in voted.response.content

    await alice.slash(channel, "follow add", keyword="video diffusion")
    await ingest_and_deliver(env, services, BATCH)
    [dm] = dms(alice)
    shown = await alice.slash(channel, "papers show", paper="2407.21018")
    keywords = keyword_options(shown.response)
    assert keywords
    similar = await bob.click(shown.response.message, label="Similar")
    similar_ids = menu_values(similar.response)
    assert similar_ids and similar.ephemeral
    searched = await alice.slash(channel, "papers search", query="federated learning")
    assert views_kept(env) == NOTHING_KEPT

    await env.restart_bot(PaperBot(services=services, settings=env.bot.settings))
    await env.advance_time(3600)  # past every timeout a view had (3, 10 and 15 minutes)

    digest_save = await lab.member.select(post, [offered[1]], custom_id="save-menu")
    assert digest_save.ephemeral and digest_save.response.content.startswith("🔖 Saved")
    digest_vote = await lab.admin.select(post, [offered[0]], custom_id="vote-menu")
    assert "(2 votes in this server)" in digest_vote.response.content
    taken_back = await lab.member.click(voted.response.message, label="Take my vote back")
    assert "taken back (1 vote in this server)" in taken_back.response.content

    dm_save = await alice.user.select(dm, ["2601.00001"], custom_id="save-menu")
    assert dm_save.ephemeral and "Video Diffusion with Low-Rank Adapters" in dm_save.response.content
    show_save = await alice.click(shown.response.message, label="Save")
    assert show_save.response.content.startswith("🔖 Saved")
    again = await alice.click(shown.response.message, label="Similar")
    assert menu_values(again.response) == similar_ids
    from_similar = await bob.select(similar.response.message, [similar_ids[0]], custom_id="save-menu")
    assert from_similar.response.content.startswith("🔖 Saved")
    followed = await bob.select(shown.response.message, [keywords[0]], custom_id="follow-keyword")
    assert followed.response.content.startswith(f"Following “{keywords[0]}")

    # Pages kept in memory went with the process: the press says so instead of failing silently.
    expired = await alice.click(searched.response.message, label="Next")
    assert expired.ephemeral and expired.response.content == EXPIRED

    assert await saved_ids(services, lab.member.id) == [offered[1]]
    assert set(await saved_ids(services, alice.id)) == {
        "2601.00001",
        shown.response.embeds[0].footer.text[3:],
    }
    assert await saved_ids(services, bob.id) == [similar_ids[0]]
    assert views_kept(env) == NOTHING_KEPT
