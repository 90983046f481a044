"""Saved-paper updates through simcord: a member hears once, in their alert DM stream, when a paper
in their library gets a new arXiv version or gains a code link."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from bot.domain.models import ListedPaper, Paper, Source
from bot.services.container import Services
from tests.cogs.test_follows import cog, dm_text, dms, ingest_and_deliver
from tests.momentum_lists import Recorded, listed

DAY = date(2026, 1, 1)


def announced(
    version: int, arxiv_id: str = "2601.00101", title: str = "Scaling Laws for Tiny Robots"
) -> ListedPaper:
    """An arXiv RSS announcement of ``version`` of a paper (v2 and later: a "replace")."""
    paper = Paper(
        title=title,
        abstract="We study robots. " * 3,
        source=Source.ARXIV_RSS,
        arxiv_id=arxiv_id,
        arxiv_version=version,
        first_listed=DAY,
    )
    return ListedPaper(paper, DAY, 1)


async def save(member: Any, channel: Any, paper_id: str) -> None:
    saved = await member.slash(channel, "library save", paper=paper_id)
    assert saved.ephemeral and "Saved" in saved.response.content


async def test_a_new_version_of_a_saved_paper_is_told_once_and_only_to_its_savers(
    world: Any, services: Services
) -> None:
    env, channel, alice, bob = world
    await services.papers.ingest([announced(1), announced(1, "2601.00102", "Nobody Saved This")])
    await save(alice, channel, "2601.00101")
    await bob.slash(channel, "follow add", keyword="quantum")  # bob gets DMs, saved nothing

    await ingest_and_deliver(env, services, [announced(3), announced(2, "2601.00102", "Nobody Saved This")])
    [dm] = dms(alice)
    assert "Scaling Laws for Tiny Robots" in dm_text(dm) and "new version v3" in dm_text(dm)
    assert "Nobody Saved This" not in dm_text(dm)
    assert dm.embeds[0].title == "🔔 Papers you saved changed"
    assert dms(bob) == []

    # The same version again (the next day's feed, a CLI ingest): nothing; an older one: nothing.
    await ingest_and_deliver(env, services, [announced(3)])
    await ingest_and_deliver(env, services, [announced(2)])
    assert len(dms(alice)) == 1
    stored = await services.papers.show("2601.00101")
    assert stored.arxiv_version == 3  # a replayed older version never takes the paper back

    await ingest_and_deliver(env, services, [announced(4)])
    assert len(dms(alice)) == 2 and "new version v4" in dm_text(dms(alice)[-1])


async def test_code_released_for_a_saved_paper_comes_in_the_same_dm_as_follow_alerts(
    world: Any, services: Services
) -> None:
    env, channel, alice, _ = world
    robots = Recorded("2601.00201", "Robot Hands Without Code", DAY, lambda k: 3)
    await services.papers.ingest(listed([robots], DAY, lambda p: 0))
    await save(alice, channel, "2601.00201")
    await alice.slash(channel, "follow add", keyword="diffusion")

    # The next fetch of the list: the repository is linked, and a paper alice follows is new.
    linked = replace(robots, github="https://github.com/x/hands")
    diffusion = Recorded("2601.00202", "Diffusion for Everything", DAY, lambda k: 1)
    await ingest_and_deliver(env, services, listed([linked, diffusion], DAY, lambda p: 1))
    [dm] = dms(alice)
    text = dm_text(dm)
    assert dm.embeds[0].title == "🔔 New papers for what you follow"
    assert "1 new paper matched what you follow · 1 paper you saved changed" in text
    assert "Matched `diffusion`" in text
    assert "📚 In your library: [code released](<https://github.com/x/hands>)" in text

    await ingest_and_deliver(env, services, listed([linked, diffusion], DAY, lambda p: 2))
    assert len(dms(alice)) == 1  # linked again: told once


async def test_a_paused_member_hears_after_resuming_and_daily_mode_waits_for_its_time(
    world: Any, services: Services
) -> None:
    env, channel, alice, _ = world
    await services.papers.ingest([announced(1)])
    await save(alice, channel, "2601.00101")
    paused = await alice.slash(channel, "follow pause")
    assert "news of papers you saved" in paused.response.content
    await ingest_and_deliver(env, services, [announced(2)])
    assert dms(alice) == []  # paused: no DM
    await alice.slash(channel, "follow mode", mode="daily", time="18:00", timezone="UTC")
    await alice.slash(channel, "follow resume")
    await cog(env).deliver_alerts()
    assert dms(alice) == []  # daily mode: at 18:00
    await env.advance_time((datetime(2026, 1, 1, 18, 0, tzinfo=UTC) - env.now()).total_seconds())
    await cog(env).deliver_alerts()
    [dm] = dms(alice)
    assert "new version v2" in dm_text(dm)


async def test_a_hostile_saved_title_pings_nobody(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    hostile = "@everyone <@&1234> **Bold** `tick` [x](https://evil.example) \u202e"
    await services.papers.ingest([announced(1, title=hostile)])
    await save(alice, channel, "2601.00101")
    await ingest_and_deliver(env, services, [announced(2, title=hostile)])
    [dm] = dms(alice)
    text = dm_text(dm)
    assert "new version v2" in text
    assert "@\u200beveryone" in text and "<@&1234>" not in text and "\u202e" not in text
    posts = [r for r in env.http_requests if r.method == "POST" and r.path.endswith("/messages")]
    assert posts and all(r.json.get("allowed_mentions") == {"parse": []} for r in posts)


async def test_a_paper_saved_only_in_dms_by_someone_in_no_server_queues_nothing(
    world: Any, services: Services
) -> None:
    env, _, _, _ = world
    stranger = env.create_user("stranger")
    await services.papers.ingest([announced(1)])
    saved = await stranger.slash("library save", paper="2601.00101")
    assert saved.ephemeral and "Saved" in saved.response.content
    await ingest_and_deliver(env, services, [announced(2)])
    assert await services.repositories.follows.users_with_pending() == []
