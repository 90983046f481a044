"""Picks for you: /library picks and the weekly DM (/library digest on|off)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.domain.models import ListedPaper, Paper, Source
from bot.services.container import Services
from tests.cogs.test_save_buttons import menu_values

SAVED = "Is Complexity Required for Neural Network Pruning? A Case Study on Global Magnitude Pruning"
NEW = [
    Paper(
        title="Global Magnitude Pruning Revisited at Scale",
        abstract="We revisit global magnitude pruning of neural networks: sparsity, pruning schedules "
        "and layer-wise thresholds compared on large models.",
        source=Source.HF_API,
        arxiv_id="2601.10001",
    ),
    Paper(
        title="Magnitude Pruning and Lottery Tickets",
        abstract="Lottery tickets found by global magnitude pruning and sparsity at initialization.",
        source=Source.HF_API,
        arxiv_id="2601.10002",
    ),
]


def answer(result: Any) -> Any:
    """The deferred command's answer (simcord shows the follow-up that completed the deferral)."""
    assert result.ephemeral
    return result.response


def cog(env: Any) -> Any:
    return env.bot.get_cog("Library")


async def setup_library(env: Any, services: Services, alice: Any, channel: Any) -> str:
    [choice] = (await alice.autocomplete(channel, "library save", "paper", "global magnitude pruning"))[:1]
    await alice.slash(channel, "library save", paper=choice["value"])
    await alice.slash(channel, "follow add", keyword="lottery tickets")  # alerts bring NEW[1]
    await services.papers.ingest([ListedPaper(p, date(2026, 1, 1), i) for i, p in enumerate(NEW, 1)])
    return str(choice["value"])


async def test_picks_are_new_papers_like_saved_ones_minus_saved_and_alerted(
    world: Any, services: Services
) -> None:
    env, channel, alice, bob = world
    saved_id = await setup_library(env, services, alice, channel)
    result = await alice.slash(channel, "library picks")
    assert result.ephemeral
    [embed] = answer(result).embeds
    text = embed.description
    assert "Global Magnitude Pruning Revisited at Scale" in text
    assert f"like “{SAVED[:40]}" in text
    assert "Lottery Tickets" not in text  # a follow alert already brought it
    offered = menu_values(answer(result))
    assert "2601.10001" in offered and saved_id not in offered and "2601.10002" not in offered
    nothing = await bob.slash(channel, "library picks")  # nothing saved: nothing to match
    assert (
        "Save more papers"
        in (nothing.followups[0] if nothing.followups else nothing.response).embeds[0].description
    )


async def test_weekly_picks_dm_once_a_week_and_only_when_on(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    await setup_library(env, services, alice, channel)
    assert await cog(env).send_weekly_picks() == 0  # off by default
    on = await alice.slash(channel, "library digest", state="on")
    assert on.ephemeral and "once a week" in on.response.content
    assert await cog(env).send_weekly_picks() == 1
    assert await cog(env).send_weekly_picks() == 0  # the same week: never twice
    [dm] = [m for m in alice.user.dm_channel.history() if m.embeds]
    assert dm.embeds[0].title == "🧭 Your weekly picks"
    assert "Global Magnitude Pruning Revisited" in dm.embeds[0].description
    assert "2601.10001" in menu_values(dm)

    await env.advance_time(7 * 24 * 3600)
    assert await cog(env).send_weekly_picks() == 1
    await alice.slash(channel, "library digest", state="off")
    await env.advance_time(7 * 24 * 3600)
    assert await cog(env).send_weekly_picks() == 0


async def test_weekly_picks_stop_when_the_member_leaves_every_server_and_resume_when_back(
    world: Any, services: Services
) -> None:
    """Discord refuses a DM to someone who shares no server with the bot: a member who left gets
    no weekly picks (as with alerts, the bot asks Discord), and gets them again once back."""
    env, channel, alice, _ = world
    await setup_library(env, services, alice, channel)
    await alice.slash(channel, "library digest", state="on")
    channel.guild.remove_member(alice)
    assert await cog(env).send_weekly_picks() == 0
    assert [m for m in alice.user.dm_channel.history() if m.embeds] == []

    alice = channel.guild.add_member(alice.user)
    again = await alice.slash(channel, "library digest", state="on")
    assert "once a week" in again.response.content
    assert await cog(env).send_weekly_picks() == 1
    [dm] = [m for m in alice.user.dm_channel.history() if m.embeds]
    assert dm.embeds[0].title == "🧭 Your weekly picks"


async def test_weekly_picks_turned_on_outside_any_server_say_where_to_run_it(
    world: Any, services: Services
) -> None:
    """From the bot's DM, by a member who never used the bot in a server: no DM could go out, so
    the answer says where to run it instead of promising a weekly DM that never comes."""
    _, channel, alice, _ = world
    from_dm = await alice.user.slash("library digest", state="on")
    assert "only DM members of a server" in from_dm.response.content
    in_server = await alice.slash(channel, "library digest", state="on")
    assert "once a week" in in_server.response.content
    assert await services.repositories.follows.member_guilds(alice.id) == [channel.guild.id]
