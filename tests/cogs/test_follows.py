"""/follow and alert DMs through simcord."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import discord
import pytest

from bot.client import PaperBot
from bot.domain.models import ListedPaper, Paper, Source
from bot.services.container import Services

DAY = date(2026, 1, 1)


class Killed(BaseException):
    """The process died here (nothing after it runs, as with SIGKILL)."""


def paper(n: int, title: str, abstract: str = "An abstract about nothing in particular.") -> ListedPaper:
    return ListedPaper(
        Paper(title=title, abstract=abstract, source=Source.HF_API, arxiv_id=f"2601.{n:05d}"), DAY, n
    )


BATCH = [
    paper(1, "Video Diffusion with Low-Rank Adapters", "We fine-tune video diffusion models with LoRA."),
    paper(2, "Sparse Pruning Without Tickets", "Pruning large models; no lottery involved."),
    paper(3, "Unrelated Graph Theory", "Graphs."),
]


def dms(member: Any) -> list[discord.Message]:
    return [m for m in member.user.dm_channel.history() if m.embeds]


def dm_text(message: discord.Message) -> str:
    return "\n".join(e.description or "" for e in message.embeds)


def cog(env: Any) -> Any:
    return env.bot.get_cog("Follows")


async def ingest_and_deliver(env: Any, services: Services, batch: list[ListedPaper]) -> None:
    await services.papers.ingest(batch)
    await cog(env).deliver_alerts()


async def test_add_list_remove_duplicates_and_limit(world: Any, services: Services) -> None:
    env, channel, alice, bob = world
    added = await alice.slash(channel, "follow add", keyword="federated learning")
    assert added.ephemeral and "Following “federated learning”" in added.response.content
    assert "recent paper" in added.response.content
    duplicate = await alice.slash(channel, "follow add", keyword="Federated  Learning")
    assert duplicate.ephemeral and "already follow" in duplicate.response.content
    typo = await alice.slash(channel, "follow add", keyword="federatd")
    assert "did you mean “federated”" in typo.response.content
    bad = await alice.slash(channel, "follow add", keyword='"reward model')
    assert bad.ephemeral and "quote is not closed" in bad.response.content

    listing = await alice.slash(channel, "follow list")
    assert listing.ephemeral and "You follow 2 keywords" in listing.response.content
    assert "“federated learning” — " in listing.response.content
    assert "nothing" in (await bob.slash(channel, "follow list")).response.content  # only your own

    choices = await alice.autocomplete(channel, "follow remove", "keyword", "fed")
    assert [c["name"] for c in choices] == ["federated learning", "federatd"]
    removed = await alice.slash(channel, "follow remove", keyword=choices[1]["value"])
    assert "no longer follow “federatd”" in removed.response.content

    services.follows.max_follows = 2
    await alice.slash(channel, "follow add", keyword="pruning")
    over = await alice.slash(channel, "follow add", keyword="diffusion")
    assert "the most allowed" in over.response.content
    assert [type(e.original).__name__ for e in env.errors] == ["InvalidInput"] * 3


async def test_two_matching_keywords_make_one_dm_listing_the_paper_once(
    world: Any, services: Services
) -> None:
    env, channel, alice, bob = world
    await alice.slash(channel, "follow add", keyword="video diffusion")
    await alice.slash(channel, "follow add", keyword="low-rank")
    await alice.slash(channel, "follow add", keyword="pruning -lottery")
    await bob.slash(channel, "follow add", keyword="graph")
    await ingest_and_deliver(env, services, BATCH)
    [dm] = dms(alice)
    text = dm_text(dm)
    assert text.count("Video Diffusion with Low\\-Rank Adapters") == 0  # only line-start hyphens are escaped
    assert text.count("Video Diffusion with Low-Rank Adapters") == 1
    assert "`video diffusion`, `low-rank`" in text
    assert "Sparse Pruning" not in text  # "-lottery" excluded it
    assert dm.embeds[0].title.startswith("🔔 New papers")
    assert "Unrelated Graph Theory" in dm_text(dms(bob)[0])
    # The same papers again: nothing new, nothing sent.
    await ingest_and_deliver(env, services, BATCH)
    assert len(dms(alice)) == 1 and len(dms(bob)) == 1


async def test_restart_between_match_and_send_loses_nothing_and_repeats_nothing(
    world: Any, services: Services
) -> None:
    env, channel, alice, _ = world
    await alice.slash(channel, "follow add", keyword="diffusion")
    await services.papers.ingest(BATCH)  # queued with the ingest; the bot "dies" before sending
    await env.restart_bot(PaperBot(services=services, settings=env.bot.settings))
    await cog(env).deliver_alerts()
    assert len(dms(alice)) == 1

    # A crash after the DM went out but before it was recorded: the restarted bot finds it.
    await services.papers.ingest([paper(10, "Diffusion Again", "More diffusion.")])
    ledger = services.repositories.follows
    original = ledger.record_part

    async def crash(*_: object, **__: object) -> None:
        raise Killed("killed before recording the DM")

    ledger.record_part = crash  # type: ignore[method-assign]
    with pytest.raises(Killed):
        await cog(env).deliver_alerts()
    ledger.record_part = original  # type: ignore[method-assign]
    assert len(dms(alice)) == 2
    await env.restart_bot(PaperBot(services=services, settings=env.bot.settings))
    await cog(env).deliver_alerts()
    await cog(env).deliver_alerts()
    assert len(dms(alice)) == 2
    assert await services.repositories.follows.sending_batches() == []


async def test_closed_dms_mark_the_member_without_retrying_forever(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    await alice.slash(channel, "follow add", keyword="diffusion")
    env.inject_error(
        "POST", "/channels/*/messages", status=403, code=50007, message="Cannot send messages to this user"
    )
    await ingest_and_deliver(env, services, BATCH)
    assert dms(alice) == []
    member = await services.follows.member(alice.id)
    assert member is not None and member.unreachable_since is not None
    await cog(env).deliver_alerts()  # not retried while unreachable
    assert not [r for r in env.http_requests if r.method == "POST" and "/messages" in r.path][1:]
    told = await alice.slash(channel, "follow list")
    assert "DMs seem closed" in told.response.content
    again = await alice.slash(channel, "follow list")
    assert "DMs seem closed" not in again.response.content  # told once
    await cog(env).deliver_alerts()  # they came back: what waited is delivered
    assert "Video Diffusion" in dm_text(dms(alice)[0])


async def test_paused_members_get_nothing_until_resumed(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    await alice.slash(channel, "follow add", keyword="diffusion")
    paused = await alice.slash(channel, "follow pause", days=3)
    assert "Alerts paused until" in paused.response.content
    await ingest_and_deliver(env, services, BATCH)
    assert dms(alice) == []
    await alice.slash(channel, "follow resume")
    await cog(env).deliver_alerts()
    assert dms(alice) == []  # papers from the pause are not sent later
    await ingest_and_deliver(env, services, [paper(20, "Fresh Diffusion Paper")])
    assert "Fresh Diffusion Paper" in dm_text(dms(alice)[0])


async def test_a_pause_drops_the_matches_waiting_for_the_daily_dm_and_says_so(
    world: Any, services: Services
) -> None:
    env, channel, alice, _ = world
    await alice.slash(channel, "follow add", keyword="diffusion")
    await alice.slash(channel, "follow mode", mode="daily", time="18:00", timezone="Europe/Paris")
    await ingest_and_deliver(env, services, BATCH)  # matched: waits for 18:00
    paused = await alice.slash(channel, "follow pause")
    assert "Matches not sent yet" in paused.response.content
    await alice.slash(channel, "follow resume")
    target = datetime(2026, 1, 1, 17, 0, tzinfo=UTC)  # 18:00 in Paris
    await env.advance_time((target - env.now()).total_seconds())
    await cog(env).deliver_alerts()
    assert dms(alice) == []  # a pause drops keyword matches, also those that were waiting


async def test_daily_mode_collects_one_dm_at_the_members_time(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    await alice.slash(channel, "follow add", keyword="diffusion")
    mode = await alice.slash(channel, "follow mode", mode="daily", time="18:00", timezone="Europe/Paris")
    assert "18:00 (Europe/Paris)" in mode.response.content
    await ingest_and_deliver(env, services, BATCH)
    await ingest_and_deliver(env, services, [paper(30, "Second Diffusion Paper")])
    assert dms(alice) == []
    target = datetime(2026, 1, 1, 17, 0, tzinfo=UTC)  # 18:00 in Paris
    await env.advance_time((target - env.now()).total_seconds())
    await cog(env).deliver_alerts()
    [dm] = dms(alice)
    assert "Video Diffusion" in dm_text(dm) and "Second Diffusion Paper" in dm_text(dm)
    await ingest_and_deliver(env, services, [paper(31, "Late Diffusion Paper")])
    assert len(dms(alice)) == 1  # today's DM is sent; this waits for tomorrow
    await env.advance_time(timedelta(days=1).total_seconds())
    await cog(env).deliver_alerts()
    assert "Late Diffusion Paper" in dm_text(dms(alice)[1])


async def test_leaving_every_shared_server_stops_alerts(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    await alice.slash(channel, "follow add", keyword="diffusion")
    channel.guild.remove_member(alice)
    await ingest_and_deliver(env, services, BATCH)
    assert dms(alice) == []
    assert await services.repositories.follows.member_guilds(alice.id) == []


async def test_a_server_that_removed_the_bot_is_no_shared_server(world: Any, services: Services) -> None:
    """Discord answers 403 Missing Access about a member of a server the bot is not in (another
    process's shard, or a removal not heard of yet): that server is forgotten as one the member
    left, and the other members' alerts go out in the same poll."""
    env, channel, alice, bob = world
    await alice.slash(channel, "follow add", keyword="diffusion")
    await bob.slash(channel, "follow add", keyword="diffusion")
    env.inject_error(
        "GET",
        f"/guilds/{channel.guild.id}/members/{alice.id}",
        status=403,
        code=50001,
        message="Missing Access",
        times=None,
    )
    await ingest_and_deliver(env, services, BATCH)
    assert dms(alice) == [] and len(dms(bob)) == 1
    assert await services.repositories.follows.member_guilds(alice.id) == []


async def test_follow_a_keyword_straight_from_a_paper(world: Any, services: Services) -> None:
    env, channel, alice, bob = world
    from pathlib import Path

    from bot.parsing.hf_api import parse_hf_api

    fixture = Path(__file__).parent.parent / "fixtures" / "hf_daily_2024-07-31.json"
    await services.papers.ingest(parse_hf_api(fixture.read_bytes(), list_date=DAY))
    shown = await alice.slash(channel, "papers show", paper="2407.21018")
    rows = shown.response.components
    menu = next(c for row in rows for c in row["components"] if c["type"] == 3)
    assert [o["label"] for o in menu["options"]] == ["KV cache", "pruning", "long context"]
    assert any(c.get("url") for row in rows for c in row["components"])  # the link buttons stay
    picked = await bob.select(shown.response.message, ["KV cache"])  # any member may follow from a paper
    assert picked.ephemeral and "Following “KV cache”" in picked.response.content
    again = await bob.select(shown.response.message, ["KV cache"])
    assert again.ephemeral and "already follow" in again.response.content
    assert [f.keyword for f in await services.follows.repository.follows(bob.id)] == ["KV cache"]
    # The menu keeps working long after the paper was shown: its keyword is the option's value.
    await env.advance_time(3600)
    later = await alice.select(shown.response.message, ["pruning"])
    assert later.ephemeral and "Following “pruning”" in later.response.content


async def test_a_member_whose_dms_fail_does_not_hold_up_the_others(world: Any, services: Services) -> None:
    """Discord failing one member's DM (a 5xx, a timeout) leaves that batch for the next poll; the
    other members' alerts go out in the same poll instead of waiting behind it."""
    env, channel, alice, bob = world
    await alice.slash(channel, "follow add", keyword="diffusion")
    await bob.slash(channel, "follow add", keyword="diffusion")
    await services.papers.ingest([BATCH[0]])
    env.inject_error("POST", "/channels/*/messages", status=500, times=1)  # the first member's DM
    await cog(env).deliver_alerts()
    arrived = sorted([len(dms(alice)), len(dms(bob))])
    assert arrived == [0, 1]  # one member's DM failed, the other's went out all the same
    await cog(env).deliver_alerts()
    assert len(dms(alice)) == len(dms(bob)) == 1
    assert await services.repositories.follows.sending_batches() == []


async def test_any_refused_dm_stops_the_retries_until_the_member_returns(
    world: Any, services: Services
) -> None:
    """Discord refusing a DM with another 403 (not 50007) is as final: no new batch and no new
    refused request every poll (Discord counts invalid requests against the bot), until the
    member's next /follow; then what waited is delivered."""
    env, channel, alice, _ = world
    await alice.slash(channel, "follow add", keyword="diffusion")
    env.inject_error(
        "POST", "/channels/*/messages", status=403, code=50001, message="Missing Access", times=None
    )
    await ingest_and_deliver(env, services, BATCH)
    await cog(env).deliver_alerts()
    await cog(env).deliver_alerts()
    attempts = [r for r in env.http_requests if r.method == "POST" and r.path.endswith("/messages")]
    assert len(attempts) == 1  # refused once, not once a poll
    env.backend.faults.clear()  # the member fixed whatever it was
    await alice.slash(channel, "follow list")
    await cog(env).deliver_alerts()
    assert len(dms(alice)) == 1 and "Video Diffusion" in dm_text(dms(alice)[0])


async def test_a_keyword_of_digits_typed_in_follow_remove_is_that_keyword_not_a_follow_id(
    world: Any, services: Services
) -> None:
    """/follow remove keyword:2024 typed by hand removed whichever of the member's follows had the
    id 2024 (digits were read as the id autocomplete sends), and kept following "2024"."""
    _, channel, alice, _ = world
    await alice.slash(channel, "follow add", keyword="diffusion")
    [diffusion] = await services.repositories.follows.follows(alice.user.id)
    year = str(diffusion.id)  # a year-like keyword that is also the id of another of their follows
    await alice.slash(channel, "follow add", keyword=year)

    removed = await alice.slash(channel, "follow remove", keyword=year)
    assert removed.ephemeral and removed.response.content == f"You no longer follow “{year}”."
    assert [f.keyword for f in await services.repositories.follows.follows(alice.user.id)] == ["diffusion"]

    # Picked from the autocomplete, a follow is removed by what the member chose, whatever its text.
    await alice.slash(channel, "follow add", keyword=year)
    choices = await alice.autocomplete(channel, "follow remove", "keyword", "")
    assert [c["name"] for c in choices] == ["diffusion", year]
    removed = await alice.slash(channel, "follow remove", keyword=choices[0]["value"])
    assert removed.response.content == "You no longer follow “diffusion”."
    assert [f.keyword for f in await services.repositories.follows.follows(alice.user.id)] == [year]


async def test_a_keyword_mixing_scripts_with_look_alikes_is_refused_naming_them(
    world: Any, services: Services
) -> None:
    """`раper` (Cyrillic р and а) was accepted and never matched: papers spell "paper" in Latin.
    A keyword in one script (Russian, Greek) and a mix without look-alikes (μP) are followed."""
    env, channel, alice, _ = world
    refused = await alice.slash(channel, "follow add", keyword="раper")
    assert refused.ephemeral
    said = refused.response.content
    assert "mixes Latin letters with look-alikes" in said
    assert "р (U+0440 CYRILLIC SMALL LETTER ER)" in said and "а (U+0430 CYRILLIC SMALL LETTER A)" in said
    assert await services.repositories.follows.follows(alice.user.id) == []
    assert [type(e.original).__name__ for e in env.errors] == ["InvalidInput"]

    for keyword in ("трансформер", "διάχυση", "μP scaling", "paper"):
        added = await alice.slash(channel, "follow add", keyword=keyword)
        assert f"Following “{keyword}”" in added.response.content, added.response.content
    followed = [f.keyword for f in await services.repositories.follows.follows(alice.user.id)]
    assert followed == ["трансформер", "διάχυση", "μP scaling", "paper"]
