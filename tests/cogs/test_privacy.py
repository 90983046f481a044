"""/privacy forget: a confirmation, then nothing left about the member (and nothing about others lost)."""

from __future__ import annotations

from typing import Any

from bot.client import PaperBot
from bot.services.container import Services
from cogs.privacy import EXPIRED_CONFIRMATION
from tests.cogs.test_follows import BATCH, dms, ingest_and_deliver
from tests.cogs.test_papers import _buttons
from tests.cogs.view_memory import NOTHING_KEPT, views_kept
from tests.member_tables import member_condition


async def rows(services: Services, user_id: int) -> dict[str, int]:
    """Rows keyed by the member in every table that holds member data."""
    from bot.domain.about import MEMBER_TABLES

    out = {}
    for table in MEMBER_TABLES:
        async with services.database.connection.execute(
            f"SELECT count(*) FROM {table} WHERE {member_condition(table)}", (user_id,)
        ) as cursor:
            row = await cursor.fetchone()
        out[table] = int(row[0]) if row else 0
    return out


async def make_history(env: Any, services: Services, member: Any, channel: Any) -> None:
    await member.slash(channel, "follow add", keyword="video diffusion")
    await member.slash(channel, "follow mode", mode="daily", time="08:00", timezone="Europe/Berlin")
    await member.slash(channel, "follow mode", mode="instant")
    await ingest_and_deliver(env, services, BATCH)
    await member.slash(channel, "library save", paper="2601.00001")
    await member.slash(channel, "library digest", state="on")


async def test_forget_asks_first_then_deletes_everything_about_the_member_only(
    world: Any, services: Services
) -> None:
    env, channel, alice, bob = world
    await make_history(env, services, alice, channel)
    await make_history(env, services, bob, channel)
    assert len(dms(alice)) == 1
    before = await rows(services, alice.id)
    assert all(
        before[t] for t in ("members", "member_guilds", "follows", "alerts", "alert_batches", "library")
    )

    asked = await alice.slash(channel, "privacy forget")
    assert asked.ephemeral and "Delete it all?" in asked.response.content
    cancelled = await alice.click(asked.response.message, label="Cancel")
    assert cancelled.response.content == "Nothing was deleted."
    assert await rows(services, alice.id) == before

    asked = await alice.slash(channel, "privacy forget")
    done = await alice.click(asked.response.message, label="Delete everything")
    assert done.response.content.startswith("Done: paperbot has forgotten you — 1 follow, 1 saved paper")
    assert set((await rows(services, alice.id)).values()) == {0}
    theirs = await rows(services, bob.id)  # another member's data is untouched
    assert all(theirs[t] for t in ("members", "member_guilds", "follows", "library", "library_settings"))

    # Nothing comes back: no follow matches, an empty library, no weekly picks.
    listing = await alice.slash(channel, "follow list")
    assert "You follow nothing" in listing.response.content
    library = await alice.slash(channel, "library list")
    assert "Nothing here yet" in library.response.embeds[0].description
    await ingest_and_deliver(env, services, [])
    assert await env.bot.get_cog("Library").send_weekly_picks() <= 1  # bob's only
    assert len(dms(alice)) == 1


async def test_forget_works_in_a_dm(world: Any, services: Services) -> None:
    _, _, alice, _ = world
    asked = await alice.user.slash("privacy forget")
    done = await alice.user.click(asked.response.message, label="Delete everything")
    assert "0 follows, 0 saved papers" in done.response.content


async def test_the_question_holds_across_a_restart_and_expires_after_two_minutes(
    world: Any, services: Services
) -> None:
    """The buttons carry the member and the question's deadline: "Delete everything" still
    answers after the bot restarts (it used to answer nothing: the view went with the process),
    and after two minutes, restart or not, it deletes nothing and says so."""
    env, channel, alice, _ = world
    await make_history(env, services, alice, channel)
    before = await rows(services, alice.id)

    asked = await alice.slash(channel, "privacy forget")
    assert views_kept(env) == NOTHING_KEPT
    await env.advance_time(121)
    late = await alice.click(asked.response.message, label="Delete everything")
    assert late.response.content == EXPIRED_CONFIRMATION
    assert all(button.get("disabled") for button in _buttons(late.response).values())
    assert await rows(services, alice.id) == before

    asked = await alice.slash(channel, "privacy forget")
    await env.advance_time(100)
    await env.restart_bot(PaperBot(services=services, settings=env.bot.settings))
    done = await alice.click(asked.response.message, label="Delete everything")
    assert done.response.content.startswith("Done: paperbot has forgotten you — 1 follow, 1 saved paper")
    assert set((await rows(services, alice.id)).values()) == {0}

    asked = await alice.slash(channel, "privacy forget")
    await env.advance_time(121)
    await env.restart_bot(PaperBot(services=services, settings=env.bot.settings))
    cancelled = await alice.click(asked.response.message, label="Cancel")
    assert cancelled.response.content == "Nothing was deleted."


async def test_forget_during_a_dm_being_sent_says_it_stops_and_nothing_more_arrives(
    world: Any, services: Services
) -> None:
    env, channel, alice, _ = world
    await alice.slash(channel, "follow add", keyword="video diffusion")
    await services.papers.ingest(BATCH)
    claimed = await services.alerts.claim(alice.id)  # this DM's first part is on its way
    assert claimed is not None

    asked = await alice.slash(channel, "privacy forget")
    done = await alice.click(asked.response.message, label="Delete everything")
    assert "A DM that was being sent to you stops here" in done.response.content
    assert set((await rows(services, alice.id)).values()) == {0}
    await ingest_and_deliver(env, services, [])  # its retry, a takeover: nothing of it is sent
    assert dms(alice) == []
