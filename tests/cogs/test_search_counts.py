"""/papers search says how many papers match, not how many it fetched, and names a correction."""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain.models import ListedPaper, Paper, Source
from cogs import _render


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


async def test_a_search_asked_again_is_shown_again_and_a_new_paper_counts_once_the_bot_notices(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second identical search is rendered from memory (the same pages), and after an ingest
    the same search counts the new paper: nothing stale is shown."""
    env, channel, alice, _ = world
    rendered: list[str] = []
    real_page = _render.search_page

    def counting_page(*args: Any, **kwargs: Any) -> Any:
        rendered.append(args[0])
        return real_page(*args, **kwargs)

    monkeypatch.setattr(_render, "search_page", counting_page)
    first = await alice.slash(channel, "papers search", query="learning")
    again = await alice.slash(channel, "papers search", query="learning")
    assert again.response.embeds[0].to_dict() == first.response.embeds[0].to_dict()
    page_count = int(first.response.embeds[0].footer.text.split(" ·")[0].split("/")[1])
    assert rendered == ["learning"] * page_count  # each page rendered once, for both answers
    total = (await env.bot.services.papers.search.find("learning")).total
    abstract = "Learning to count zebras in the wild, a study of learning from few examples. " * 2
    paper = Paper(title="Learning Zebras", abstract=abstract, source=Source.HF_API, arxiv_id="2511.99999")
    await env.bot.services.papers.ingest([ListedPaper(paper)])  # the bot notices its own ingest
    after = await alice.slash(channel, "papers search", query="learning")
    assert f"10 of {total + 1} results" in after.response.embeds[0].footer.text
