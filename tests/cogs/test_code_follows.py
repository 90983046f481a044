"""/follow add … code:yes: a member hears about a matching paper only once its code is linked,
also when the link arrives with a later fetch of the same list."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from bot.services.container import Services
from tests.cogs.test_follows import dm_text, dms, ingest_and_deliver
from tests.momentum_lists import Recorded, listed

DAY = date(2026, 1, 1)
NO_CODE_YET = Recorded("2601.00011", "Video Diffusion Without Code", DAY, lambda k: 5)
WITH_CODE = Recorded(
    "2601.00012", "Diffusion Policy With Code", DAY, lambda k: 9, github="https://github.com/x/policy"
)
UNRELATED = Recorded("2601.00013", "Graph Coloring", DAY, lambda k: 1, github="https://github.com/x/graphs")


async def test_code_only_follows_wait_for_the_code_link(world: Any, services: Services) -> None:
    env, channel, alice, bob = world
    added = await alice.slash(channel, "follow add", keyword="diffusion", code="yes")
    assert added.ephemeral and "once its code is linked" in added.response.content
    await bob.slash(channel, "follow add", keyword="diffusion")
    listing = await alice.slash(channel, "follow list")
    assert "• “diffusion” (with code)" in listing.response.content

    await ingest_and_deliver(env, services, listed([NO_CODE_YET, WITH_CODE, UNRELATED], DAY, lambda p: 0))
    [first] = dms(alice)
    assert "Diffusion Policy With Code" in dm_text(first)
    assert "Video Diffusion Without Code" not in dm_text(first)
    assert "`diffusion (with code)`" in dm_text(first)
    [bobs] = dms(bob)
    assert "Video Diffusion Without Code" in dm_text(bobs) and "Diffusion Policy With Code" in dm_text(bobs)

    # The next fetch of the same list: the repository is now linked.
    linked = replace(NO_CODE_YET, github="https://github.com/x/video")
    await ingest_and_deliver(env, services, listed([linked, WITH_CODE, UNRELATED], DAY, lambda p: 1))
    later = dms(alice)
    assert len(later) == 2
    newest = dm_text(later[0]) if "Video Diffusion" in dm_text(later[0]) else dm_text(later[1])
    assert "Video Diffusion Without Code" in newest and "Diffusion Policy With Code" not in newest
    assert len(dms(bob)) == 1  # bob had it at once; nobody hears of a paper twice

    # Fetched again with the same link: nothing new for anyone.
    await ingest_and_deliver(env, services, listed([linked, WITH_CODE, UNRELATED], DAY, lambda p: 2))
    assert len(dms(alice)) == 2 and len(dms(bob)) == 1
