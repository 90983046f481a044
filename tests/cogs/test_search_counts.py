"""/papers search says how many papers match, not how many it fetched, and names a correction."""

from __future__ import annotations

from typing import Any


async def test_search_footer_shows_the_true_total(world: Any) -> None:
    env, channel, alice, _ = world
    expected = await env.bot.services.papers.search.find("learning", limit=10)
    assert expected.total > 10
    result = await alice.slash(channel, "papers search", query="learning")
    footer = result.response.embeds[0].footer.text
    assert f"10 of {expected.total} results" in footer


async def test_search_footer_names_the_spelling_correction(world: Any) -> None:
    _, channel, alice, _ = world
    result = await alice.slash(channel, "papers search", query="federatd lerning")
    assert "spelling corrected to “federated learning”" in result.response.embeds[0].footer.text
