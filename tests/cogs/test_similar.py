"""/papers similar and the Similar button through simcord."""

from __future__ import annotations

from typing import Any

from bot.services.container import Services
from tests.cogs.test_save_buttons import menu_values

SOURCE = "Is Complexity Required for Neural Network Pruning? A Case Study on Global Magnitude Pruning"


async def test_similar_lists_related_papers_with_shared_words_and_a_save_menu(
    world: Any, services: Services
) -> None:
    _, channel, alice, _ = world
    [choice] = (await alice.autocomplete(channel, "papers similar", "paper", "global magnitude pruning"))[:1]
    result = await alice.slash(channel, "papers similar", paper=choice["value"])
    [embed] = result.response.embeds
    assert embed.title.startswith("More like “Is Complexity Required")
    lines = embed.description.split("\n")
    assert lines[0].startswith("**1.**") and "Is Complexity Required" not in embed.description
    assert "shares `pruning`" in embed.description or "`pruning`" in embed.description
    offered = menu_values(result.response)
    assert 1 <= len(offered) <= 8 and choice["value"] not in offered
    saved = await alice.select(result.response.message, [offered[0]], custom_id="save-menu")
    assert saved.response.content.startswith("🔖 Saved")


async def test_similar_button_answers_whoever_clicks_privately(world: Any, services: Services) -> None:
    _, channel, alice, bob = world
    [choice] = (await alice.autocomplete(channel, "papers show", "paper", "global magnitude pruning"))[:1]
    shown = await alice.slash(channel, "papers show", paper=choice["value"])
    clicked = await bob.click(shown.response.message, label="Similar")
    assert clicked.ephemeral
    assert clicked.response.embeds[0].title.startswith("More like")
    direct = await services.similar.similar(await services.papers.show(choice["value"]), limit=8)
    assert menu_values(clicked.response) == [hit.paper.id for hit in direct]


async def test_similar_for_an_unknown_paper_is_a_friendly_error(world: Any) -> None:
    env, channel, alice, _ = world
    result = await alice.slash(channel, "papers similar", paper="no such paper at all")
    assert result.ephemeral and "No paper matches" in result.response.content
    assert [type(e.original).__name__ for e in env.errors] == ["PaperNotFound"]
