"""/follow list with many long keywords is paged, never cut: every follow can be reached."""

from __future__ import annotations

from typing import Any

from bot.domain.layout import text_pages
from bot.services.container import Services
from cogs._views import EXPIRED
from tests.cogs.view_memory import NOTHING_KEPT, views_kept


def keyword(n: int) -> str:
    return f"topic{n:02d} OR " + " OR ".join(
        f"averyveryverylongword{n:02d}x{i}" for i in range(3)
    )  # 92 characters


async def follow_twenty_five(services: Services, channel: Any, member: Any) -> None:
    services.follows.max_follows = 25
    for n in range(25):
        added = await member.slash(channel, "follow add", keyword=keyword(n))
        assert "You follow" in added.response.content or "Following" in added.response.content, (
            added.response.content
        )


async def test_twenty_five_long_follows_are_paged_with_buttons(world: Any, services: Services) -> None:
    _, channel, alice, _ = world
    await follow_twenty_five(services, channel, alice)
    listing = await alice.slash(channel, "follow list")
    assert listing.ephemeral
    seen = listing.response.content
    assert len(seen) <= 2000 and "You follow 25 keywords" in seen and "Page 1/" in seen
    pages = int(seen.rsplit("Page 1/", 1)[1].split()[0])
    message = listing.response.message
    for page in range(2, pages + 1):
        turned = await alice.click(message, label="Next")
        content = turned.response.content if turned.response else message.content
        content = message.content if content is None else content
        assert f"Page {page}/{pages}" in content and len(content) <= 2000
        seen += content
    for n in range(25):
        assert f"topic{n:02d}" in seen, n


async def test_follow_list_pages_keep_no_view_and_expire_after_three_minutes(
    world: Any, services: Services
) -> None:
    """The private pages are kept as one blob for three minutes, like search pages: discord.py
    keeps no view for them (it gave every private answer with buttons a 15-minute timer holding
    its view), and a press after three minutes says the list expired."""
    env, channel, alice, _ = world
    await follow_twenty_five(services, channel, alice)
    listing = await alice.slash(channel, "follow list")
    assert listing.ephemeral and "Page 1/" in listing.response.content
    assert views_kept(env) == NOTHING_KEPT
    turned = await alice.click(listing.response.message, label="Next")
    assert "Page 2/" in turned.response.content
    assert views_kept(env) == NOTHING_KEPT

    await env.advance_time(181)
    expired = await alice.click(turned.response.message, label="Previous")
    assert expired.ephemeral and expired.response.content == EXPIRED


def test_pages_keep_every_line_within_the_limit() -> None:
    lines = [f"• “{'x' * (n % 120)}” — {n} recent" for n in range(60)]
    texts = text_pages("You follow 60 keywords:", lines, limit=2000)
    assert all(len(t) <= 2000 for t in texts)
    joined = "\n".join(texts)
    assert all(line in joined for line in lines)
