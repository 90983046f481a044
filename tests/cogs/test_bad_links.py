"""A stored paper whose links Discord would refuse (older rows, other writers) still shows."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cogs.test_papers import _buttons

BAD_LINKS = [
    "https://github.com/a b",
    "javascript:alert(1)",
    "https://ex.org/<x>",
    "https://" + "a" * 600 + ".org",
]


@pytest.mark.parametrize("bad", BAD_LINKS)
async def test_show_works_for_a_stored_paper_with_links_discord_refuses(world: Any, bad: str) -> None:
    env, channel, alice, _ = world
    paper_id = "2407.21018"
    database = env.bot.services.papers.database
    async with database.transaction() as connection:
        await connection.execute(
            "UPDATE papers SET id = ?, arxiv_id = ?, code_url = ?, project_url = ?, thumbnail_url = ? "
            "WHERE pk = (SELECT min(pk) FROM papers)",
            (paper_id, paper_id, bad, bad, bad),
        )
    result = await alice.slash(channel, "papers show", paper=paper_id)
    [embed] = result.response.embeds
    assert not env.errors
    assert bad not in str(embed.to_dict())
    buttons = _buttons(result.response)
    assert "Code" not in buttons and "Project page" not in buttons and "arXiv" in buttons
