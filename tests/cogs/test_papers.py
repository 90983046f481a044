"""/papers commands driven through simcord as members would use them."""

from __future__ import annotations

from datetime import date
from typing import Any

import discord

from bot.domain.models import ListedPaper, Paper, Source
from bot.errors import PaperNotFound
from cogs._views import EXPIRED, EXPIRED_RANDOM, NOT_YOURS
from tests.cogs.view_memory import NOTHING_KEPT, views_kept

LONG_ABSTRACT = ("This sentence is part of a very long abstract about sparse attention. " * 200).strip()


def _buttons(message: Any) -> dict[str, dict[str, Any]]:
    """Buttons by label, from a raw response (dicts) or a discord.Message (ActionRow objects)."""
    found: dict[str, dict[str, Any]] = {}
    for row in message.components:
        for c in row["components"] if isinstance(row, dict) else row.children:
            if not isinstance(c, dict) and not isinstance(c, discord.Button):
                continue  # select menus have no label
            item = c if isinstance(c, dict) else {"label": c.label, "disabled": c.disabled, "url": c.url}
            if item.get("label"):
                found[item["label"]] = item
    return found


async def test_search_answers_with_an_embed_page(world: Any) -> None:
    _, channel, alice, _ = world
    result = await alice.slash(channel, "papers search", query="federated learning")
    assert not result.ephemeral
    [embed] = result.response.embeds
    assert "federated learning" in embed.title
    assert embed.description.count("Federated") >= 3
    assert embed.footer.text.startswith("Page 1/2 · 10 of 12 results")  # 12 papers hold both words
    buttons = _buttons(result.response)
    assert buttons["Previous"].get("disabled") is True
    assert not buttons["Next"].get("disabled")


async def test_only_the_invoker_can_turn_pages_and_buttons_expire(world: Any) -> None:
    env, channel, alice, bob = world
    result = await alice.slash(channel, "papers search", query="federated learning")
    message = result.response.message

    intruder = await bob.click(message, label="Next")
    assert intruder.ephemeral and intruder.response.content == NOT_YOURS
    assert channel.last_message.embeds[0].footer.text.startswith("Page 1/2")

    await alice.click(message, label="Next")
    assert channel.last_message.embeds[0].footer.text.startswith("Page 2/2")
    assert _buttons(channel.last_message)["Next"].get("disabled") is True

    # Three minutes on, the pages are no longer kept (nothing waits in memory per message): a
    # turn says so plainly instead of failing silently.
    await env.advance_time(181)
    expired = await alice.click(channel.last_message, label="Previous")
    assert expired.ephemeral and expired.response.content == EXPIRED
    assert channel.last_message.embeds[0].footer.text.startswith("Page 2/2")


async def test_no_results_is_private_and_suggests_titles(world: Any) -> None:
    _, channel, alice, _ = world
    result = await alice.slash(channel, "papers search", query="qqqzzz")
    assert result.ephemeral
    assert result.response.content.startswith("No papers match")


async def test_odd_search_syntax_never_shows_an_sqlite_error(world: Any) -> None:
    env, channel, alice, _ = world
    for odd in ['"global magnitude pruning', "title:(x AND", "*", "NEAR(a b)", "-"]:
        result = await alice.slash(channel, "papers search", query=odd)
        text = result.response.content + "".join(e.description or "" for e in result.response.embeds)
        assert "sqlite" not in text.lower() and "fts5" not in text.lower()
    # "*" and "-" hold no word to look for: told so, as a mistake the user can fix.
    assert [type(e.original).__name__ for e in env.errors] == ["InvalidInput"] * 2


async def test_a_search_with_nothing_to_look_for_is_told_so_without_unrelated_titles(world: Any) -> None:
    env, channel, alice, _ = world
    for odd, told in (("(((", "no words to look for"), ("-learning", "only leaves words out")):
        result = await alice.slash(channel, "papers search", query=odd)
        assert told in result.response.content and "Close titles" not in result.response.content
        assert result.response.embeds == []
    assert [type(e.original).__name__ for e in env.errors] == ["InvalidInput"] * 2


async def test_autocomplete_is_typo_tolerant_and_within_limits(world: Any) -> None:
    _, channel, alice, _ = world
    choices = await alice.autocomplete(channel, "papers show", "paper", "federatd orthogonal")
    assert choices[0]["name"].startswith("Federated Orthogonal Training")
    everything = await alice.autocomplete(channel, "papers show", "paper", "")
    assert len(everything) == 25
    assert all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in everything)


async def test_show_renders_a_rich_embed_with_link_buttons(world: Any) -> None:
    _, channel, alice, _ = world
    [choice] = (await alice.autocomplete(channel, "papers show", "paper", "global magnitude pruning"))[:1]
    result = await alice.slash(channel, "papers show", paper=choice["value"])
    [embed] = result.response.embeds
    assert embed.title.startswith("Is Complexity Required for Neural Network Pruning")
    names = {f.name for f in embed.fields}
    assert "Listed" in names and "Authors" not in names  # the page text names no authors: no empty field
    code = _buttons(result.response)["Code"]
    assert code["url"] == "https://github.com/manasgupta-1/GlobalMP"


async def test_show_unknown_paper_is_a_friendly_private_error(world: Any) -> None:
    env, channel, alice, _ = world
    result = await alice.slash(channel, "papers show", paper="no such paper at all")
    assert result.ephemeral
    assert "No paper matches" in result.response.content
    assert [type(e.original) for e in env.errors] == [PaperNotFound]


async def test_an_unknown_reference_is_quoted_as_typed_never_as_python_escapes(world: Any) -> None:
    env, channel, alice, _ = world
    invisible = await alice.slash(channel, "papers show", paper="\u200b")
    assert invisible.response.content.startswith("No paper matches an empty reference.")
    spaced = await alice.slash(channel, "papers show", paper="it's\u200b  gone\\here")
    assert "No paper matches 'it's gone\\here'." in spaced.response.content
    assert "\\u200b" not in invisible.response.content + spaced.response.content
    assert [type(e.original) for e in env.errors] == [PaperNotFound, PaperNotFound]


async def test_long_text_and_mentions_stay_within_limits_and_ping_nobody(world: Any) -> None:
    env, channel, alice, _ = world
    hostile = Paper(
        title="@everyone look: [x](https://evil) **bold** " + "Very Long Title Words " * 30,
        abstract=LONG_ABSTRACT,
        source=Source.HF_API,
        arxiv_id="2507.99999",
        authors=tuple(f"Author Number{i}" for i in range(400)),
    )
    await env.bot.services.papers.ingest([ListedPaper(hostile, date(2026, 7, 31), 1)])
    result = await alice.slash(channel, "papers show", paper="2507.99999")
    [embed] = result.response.embeds
    assert len(embed.title) <= 256 and len(embed.description) <= 4096 and len(embed) <= 6000
    assert all(len(f.value) <= 1024 for f in embed.fields)
    assert "et al." in next(f.value for f in embed.fields if f.name == "Authors")
    assert embed.description.endswith("…")
    request = next(r for r in reversed(env.http_requests) if "callback" in r.path)
    assert request.json["data"]["allowed_mentions"] == {"parse": []}
    listing = await alice.slash(channel, "papers today")
    assert "@\u200beveryone" in listing.response.embeds[0].description  # escaped, never a live mention
    assert "\\[x\\]" in listing.response.embeds[0].description


async def test_random_and_another_one(world: Any) -> None:
    _, channel, alice, _ = world
    result = await alice.slash(channel, "papers random", topic="federated")
    first = result.response.embeds[0].title
    assert first
    await alice.click(result.response.message, label="Another one")
    assert (
        "federated"
        in (channel.last_message.embeds[0].title + channel.last_message.embeds[0].description).lower()
    )
    none = await alice.slash(channel, "papers random", topic="qqqzzz")
    assert none.ephemeral and "no papers" in none.response.content.lower()


async def test_today_lists_the_latest_day_in_pages(world: Any) -> None:
    env, channel, alice, _ = world
    result = await alice.slash(channel, "papers today")
    [embed] = result.response.embeds
    assert "30 July 2026" in embed.title
    assert embed.footer.text == "Page 1/7 · 69 papers"
    assert embed.description.startswith("**1.** Value Function is All You Need")
    bad = await alice.slash(channel, "papers today", day="30/07/2026")
    assert bad.ephemeral and "YYYY-MM-DD" in bad.response.content
    missing = await alice.slash(channel, "papers today", day="2020-01-01")
    assert missing.ephemeral and "2026-07-30" in missing.response.content
    assert [type(e.original).__name__ for e in env.errors] == ["InvalidInput", "NoListing"]


async def test_unexpected_failure_gets_an_apology_with_a_reference(world: Any, caplog: Any) -> None:
    env, channel, alice, _ = world

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("database exploded")

    env.bot.services.papers.search.find = broken
    result = await alice.slash(channel, "papers search", query="anything")
    assert result.ephemeral
    assert "Error reference" in result.response.content
    reference = result.response.content.split("`")[1]
    assert any(reference in r.getMessage() and r.exc_info for r in caplog.records)
    assert "database exploded" not in result.response.content
    assert len(env.errors) == 1


def make_admins(channel: Any, *members: Any) -> None:
    """/admin is visible to server administrators only (its default permissions)."""
    role = channel.guild.create_role("Admins", permissions=discord.Permissions(administrator=True))
    for member in members:
        channel.guild.add_member(member.user, roles=[role])


async def test_errors_after_deferring_are_sent_as_followups(world: Any) -> None:
    env, channel, alice, _ = world
    env.bot.settings.owner_ids.append(alice.id)
    make_admins(channel, alice)

    async def broken_sync(**_: object) -> list[object]:
        raise RuntimeError("sync failed")

    env.bot.tree.sync = broken_sync
    result = await alice.slash(channel, "admin sync")
    callbacks = [r.json["type"] for r in env.http_requests if r.path.endswith("/callback")]
    assert callbacks == [5]  # deferred first; the apology then completes the deferred reply
    assert "Error reference" in result.response.content
    assert result.response.ephemeral
    assert len(env.errors) == 1


async def test_sync_is_owner_only(world: Any) -> None:
    env, channel, alice, bob = world
    env.bot.settings.owner_ids.append(alice.id)
    make_admins(channel, alice, bob)
    denied = await bob.slash(channel, "admin sync", here=True)
    assert denied.ephemeral and "owner only" in denied.response.content
    allowed = await alice.slash(channel, "admin sync", here=True)
    assert "Synced" in allowed.response.content
    assert len(env.errors) == 1


async def test_answers_with_buttons_leave_no_view_waiting_in_memory(world: Any) -> None:
    """At 300 interactions/s the views of three minutes of answers (each with its embeds, sent
    message and timer) were most of the bot's heap; the buttons now carry their state."""
    env, channel, alice, _ = world
    searched = await alice.slash(channel, "papers search", query="federated learning")
    await alice.slash(channel, "papers random", topic="federated")
    await alice.slash(channel, "papers show", paper="Federated")
    assert views_kept(env) == NOTHING_KEPT
    turned = await alice.click(searched.response.message, label="Next")
    assert turned.response.embeds[0].footer.text.startswith("Page 2/2")


async def test_another_one_after_three_minutes_says_the_button_expired(world: Any) -> None:
    env, channel, alice, bob = world
    result = await alice.slash(channel, "papers random", topic="federated")
    intruder = await bob.click(result.response.message, label="Another one")
    assert intruder.ephemeral and intruder.response.content == NOT_YOURS
    await env.advance_time(181)
    expired = await alice.click(result.response.message, label="Another one")
    assert expired.ephemeral and expired.response.content == EXPIRED_RANDOM
