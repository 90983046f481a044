"""Saving from every paper view: /papers show and random, search pages, digests, alert DMs.

Save buttons and menus carry the paper id in their custom id (discord.py dynamic items), so they work
for whoever uses them, on old messages, and in DMs; each saves into the user's own library."""

from __future__ import annotations

from typing import Any

import discord

from bot.parsing.hf_api import parse_hf_api
from bot.services.container import Services
from tests.cogs.test_digest import FIXTURES, NEW_YEAR, digest_messages, server, until
from tests.cogs.test_follows import BATCH, dms, ingest_and_deliver


def menu_values(message: Any) -> list[str]:
    for row in message.components:
        for item in row.children if not isinstance(row, dict) else row["components"]:
            if isinstance(item, discord.SelectMenu) and item.custom_id == "save-menu":
                return [option.value for option in item.options]
            if isinstance(item, dict) and item.get("custom_id") == "save-menu":
                return [option["value"] for option in item["options"]]
    return []


async def saved_ids(services: Services, user_id: int) -> list[str]:
    return [paper_id for paper_id, _ in await services.library.repository.titles(user_id)]


async def test_save_button_under_show_saves_for_whoever_clicks(world: Any, services: Services) -> None:
    env, channel, alice, bob = world
    [choice] = (await alice.autocomplete(channel, "papers show", "paper", "global magnitude pruning"))[:1]
    shown = await alice.slash(channel, "papers show", paper=choice["value"])
    message = shown.response.message

    first = await alice.click(message, label="Save")
    assert first.ephemeral and first.response.content.startswith("🔖 Saved “Is Complexity Required")
    again = await alice.click(message, label="Save")
    assert "already in your library" in again.response.content
    theirs = await bob.click(message, label="Save")  # anyone may save a paper they see
    assert theirs.ephemeral and theirs.response.content.startswith("🔖 Saved")
    assert await saved_ids(services, alice.id) == await saved_ids(services, bob.id) == [choice["value"]]

    await env.advance_time(601)  # long after the view's other items expired, Save still works
    late = await alice.click(channel.last_message, label="Save")
    assert "already in your library" in late.response.content


async def test_random_paper_save_button_follows_the_reroll(world: Any, services: Services) -> None:
    _, channel, alice, _ = world
    result = await alice.slash(channel, "papers random")
    first_id = result.response.embeds[0].footer.text.removeprefix("id ")
    await alice.click(result.response.message, label="Save")
    for _ in range(5):  # reroll until another paper shows (random may repeat)
        rerolled = await alice.click(channel.last_message, label="Another one")
        shown = rerolled.response.embeds[0].footer.text.removeprefix("id ")
        if shown != first_id:
            break
    await alice.click(channel.last_message, label="Save")
    assert set(await saved_ids(services, alice.id)) == {first_id, shown}


async def test_search_pages_offer_a_save_menu_per_page(world: Any, services: Services) -> None:
    _, channel, alice, bob = world
    result = await alice.slash(channel, "papers search", query="federated learning")
    page_one = menu_values(result.response)
    assert 1 <= len(page_one) <= 25
    picked = await bob.select(result.response.message, [page_one[2]], custom_id="save-menu")
    assert picked.ephemeral and picked.response.content.startswith("🔖 Saved")
    assert await saved_ids(services, bob.id) == [page_one[2]]

    turned = await alice.click(result.response.message, label="Next")
    page_two = menu_values(turned.response)
    assert page_two and not set(page_two) & set(page_one)


async def test_save_from_a_digest_message_through_its_menu(world: Any, services: Services) -> None:
    env = world[0]
    daily = (FIXTURES / "hf_daily_2024-07-31.json").read_bytes()
    await services.papers.ingest(parse_hf_api(daily, list_date=NEW_YEAR))
    lab = server(env, "lab")
    await lab.admin.slash(lab.channel, "digest setup", channel=lab.channel, time="09:00", timezone="UTC")
    await until(env, 9, 0)
    [post] = digest_messages(lab.channel)
    offered = menu_values(post)
    assert offered and len(offered) <= 25
    daily = await services.papers.daily_list(NEW_YEAR)
    assert offered == [paper.id for paper in daily.papers][: len(offered)]  # the post's papers, in rank order

    chosen = await lab.member.select(post, [offered[0]], custom_id="save-menu")
    assert chosen.ephemeral and chosen.response.content.startswith("🔖 Saved")
    assert await saved_ids(services, lab.member.id) == [offered[0]]


async def test_save_from_an_alert_dm(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    await alice.slash(channel, "follow add", keyword="video diffusion")
    await ingest_and_deliver(env, services, BATCH)
    [dm] = dms(alice)
    assert menu_values(dm) == ["2601.00001"]
    saved = await alice.user.select(dm, ["2601.00001"], custom_id="save-menu")
    assert saved.ephemeral and "Video Diffusion with Low-Rank Adapters" in saved.response.content
    listing = await alice.user.slash("library list")
    assert "Video Diffusion with Low" in listing.response.embeds[0].description
