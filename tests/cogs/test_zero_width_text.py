"""Text of only zero-width characters, stored before the parsers judged blanks after cleaning: the
paper still shows, with no empty keyword option (Discord refuses an empty select label) and no
blank author in its byline."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.domain.models import ListedPaper, Paper, Source
from bot.services.container import Services
from tests.cogs.test_buttons_after_restart import keyword_options

STORED_BLANKS = Paper(
    title="Zero Width Keywords In The Wild",
    abstract="A paper whose stored keywords and an author are blank once cleaned.",
    source=Source.HF_API,
    arxiv_id="2611.90002",
    authors=("", "Ada Lovelace", "\u200b"),
    ai_keywords=("", "\u200b", "pruning", "pruning\u200b"),
)
ONLY_BLANKS = Paper(
    title="Only Zero Width Keywords",
    abstract="Every stored keyword is blank once cleaned.",
    source=Source.HF_API,
    arxiv_id="2611.90003",
    ai_keywords=("\u200b", ""),
)


async def test_stored_blank_keywords_and_authors_never_reach_discord(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    await services.papers.ingest(
        [ListedPaper(p, date(2026, 11, 20), i) for i, p in enumerate([STORED_BLANKS, ONLY_BLANKS], 1)]
    )

    shown = await alice.slash(channel, "papers show", paper="2611.90002")
    assert keyword_options(shown.response) == ["pruning"]
    [embed] = shown.response.embeds
    assert "Ada Lovelace" in str(embed.to_dict()) and ", ," not in str(embed.to_dict())

    only_blank = await alice.slash(channel, "papers show", paper="2611.90003")
    assert only_blank.response.embeds[0].title.startswith("Only Zero Width Keywords")
    assert keyword_options(only_blank.response) == []
    assert not env.errors
