"""/library and the Save buttons through simcord, as members would use them."""

from __future__ import annotations

import asyncio
import re
import threading
from pathlib import Path
from typing import Any

import bibtexparser
import discord
import pytest
import rispy
import simcord

from bot.client import PaperBot
from bot.domain.library import MAX_NOTE_CHARS, MAX_TAG_CHARS, ReadFilter, parse_tag
from bot.domain.text import words
from bot.domain.uploads import UPLOAD_BYTES
from bot.exports import bibtex
from bot.parsing.arxiv import parse_arxiv_atom
from bot.services.container import Services
from cogs.library import Library, LibraryTurn
from tests.cogs.test_papers import _buttons
from tests.cogs.view_memory import NOTHING_KEPT, views_kept


async def save_some(services: Services, user_id: int, count: int) -> list[str]:
    ids = [paper_id for paper_id, _ in await services.papers.repository.newest_titles(count, ("hf-page",))]
    for paper_id in ids:
        await services.library.save(user_id, paper_id)
    return ids


async def test_save_is_idempotent_private_and_works_in_dms(world: Any, services: Services) -> None:
    _, channel, alice, bob = world
    [choice] = (await alice.autocomplete(channel, "library save", "paper", "global magnitude pruning"))[:1]
    first = await alice.slash(channel, "library save", paper=choice["value"])
    assert first.ephemeral and first.response.content.startswith("🔖 Saved “Is Complexity Required")
    again = await alice.slash(channel, "library save", paper=choice["value"])
    assert again.ephemeral and "already in your library" in again.response.content

    # In a DM with the bot, the same library: it belongs to the member, not to a server.
    listing = await alice.user.slash("library list")
    assert listing.ephemeral
    assert "Is Complexity Required" in listing.response.embeds[0].description
    assert "1 paper" in listing.response.embeds[0].footer.text
    theirs = await bob.slash(channel, "library list")
    assert "Nothing here yet" in theirs.response.embeds[0].description


async def test_list_pages_newest_first_with_read_marks_and_filters(world: Any, services: Services) -> None:
    _, channel, alice, _ = world
    ids = await save_some(services, alice.id, 23)
    await alice.slash(channel, "library read", paper=ids[-1])  # the newest saved

    result = await alice.slash(channel, "library list")
    assert result.ephemeral
    [embed] = result.response.embeds
    assert embed.footer.text.startswith("Page 1/3 · 23 papers")
    assert embed.description.startswith("`1.` ✓ ")  # newest saved first, and it is read
    assert embed.description.count("○") == 9
    message = result.response.message

    turned = await alice.click(message, label="Next")
    assert turned.response.embeds[0].footer.text.startswith("Page 2/3")
    assert turned.response.embeds[0].description.startswith("`11.` ○ ")
    last = await alice.click(turned.response.message, label="Next")
    assert last.response.embeds[0].footer.text.startswith("Page 3/3")
    assert _buttons(last.response)["Next"].get("disabled") is True

    unread = await alice.slash(channel, "library list", status="unread")
    assert "22 papers" in unread.response.embeds[0].footer.text
    read = await alice.slash(channel, "library list", status="read")
    assert "1 paper" in read.response.embeds[0].footer.text and "✓" in read.response.embeds[0].description
    await alice.slash(channel, "library unread", paper=ids[-1])
    read = await alice.slash(channel, "library list", status="read")
    assert "Nothing here yet" in read.response.embeds[0].description


async def test_list_buttons_show_the_library_as_it_is_now_after_minutes_and_a_restart(
    world: Any, services: Services
) -> None:
    """The pages are read at each press: nothing waits in memory per list, a paper marked read
    meanwhile shows its mark, and the buttons keep working after three minutes and after the bot
    restarts (they used to grey out after three minutes, and a restart left them answering
    nothing)."""
    env, channel, alice, _ = world
    ids = await save_some(services, alice.id, 23)
    listed = await alice.slash(channel, "library list", status="unread")
    assert listed.ephemeral and listed.response.embeds[0].footer.text.startswith("Page 1/3 · 23 papers")
    assert views_kept(env) == NOTHING_KEPT

    second = await alice.click(listed.response.message, label="Next")
    eleventh = ids[-11]  # newest saved first
    title = (await services.papers.show(eleventh)).title
    assert title in second.response.embeds[0].description.split("`12.`")[0]
    await alice.slash(channel, "library read", paper=eleventh)  # it leaves the unread list

    await env.advance_time(181)
    third = await alice.click(second.response.message, label="Next")
    assert third.response.embeds[0].footer.text.startswith("Page 3/3 · 22 papers")
    assert _buttons(third.response)["Next"].get("disabled") is True

    await env.restart_bot(PaperBot(services=services, settings=env.bot.settings))
    back = await alice.click(third.response.message, label="Previous")
    assert back.response.embeds[0].footer.text.startswith("Page 2/3 · 22 papers")
    assert title not in back.response.embeds[0].description
    assert back.response.embeds[0].description.count("○") == 10
    assert views_kept(env) == NOTHING_KEPT


async def test_list_of_a_tag_keeps_its_tag_and_filter_on_every_page(world: Any, services: Services) -> None:
    _, channel, alice, _ = world
    ids = await save_some(services, alice.id, 25)
    for paper_id in ids[:12]:
        await services.library.tag(alice.id, paper_id, "Überblick")
    await alice.slash(channel, "library read", paper=ids[0])
    listed = await alice.slash(channel, "library list", status="unread", tag="ÜBERBLICK")
    assert listed.response.embeds[0].title == "Unread in your library · #überblick"
    assert listed.response.embeds[0].footer.text.startswith("Page 1/2 · 11 papers")
    turned = await alice.click(listed.response.message, label="Next")
    assert turned.response.embeds[0].title == "Unread in your library · #überblick"
    assert turned.response.embeds[0].footer.text.startswith("Page 2/2 · 11 papers")
    assert turned.response.embeds[0].description.startswith("`11.` ○ ")


async def test_remove_autocomplete_offers_only_the_members_own_25(world: Any, services: Services) -> None:
    env, channel, alice, bob = world
    ids = await save_some(services, alice.id, 30)
    choices = await alice.autocomplete(channel, "library remove", "paper", "")
    assert len(choices) == 25
    assert all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)
    assert {c["value"] for c in choices} <= set(ids)
    assert await bob.autocomplete(channel, "library remove", "paper", "") == []

    title = (await services.papers.repository.get(ids[0])).paper.title  # type: ignore[union-attr]
    typed = await alice.autocomplete(channel, "library remove", "paper", title.lower())
    assert typed[0]["value"] == ids[0]
    removed = await alice.slash(channel, "library remove", paper=ids[0])
    assert removed.ephemeral and removed.response.content.startswith("Removed")
    again = await alice.slash(channel, "library remove", paper=ids[0])
    assert "not in your library" in again.response.content
    notyours = await bob.slash(channel, "library read", paper=ids[1])
    assert "not in your library" in notyours.response.content
    assert [type(e.original).__name__ for e in env.errors] == ["InvalidInput"] * 2


async def test_tags_are_shown_back_with_the_letters_typed(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    ids = await save_some(services, alice.id, 1)
    tagged = await alice.slash(channel, "library tag", paper=ids[0], tags="ÄÖÜ,@everyone")
    assert "#äöü #everyone" in tagged.response.content
    listing = await alice.slash(channel, "library list", tag="äöü")
    assert "1 paper" in listing.response.embeds[0].footer.text
    assert env.errors == []


async def test_tags_and_notes_are_validated_and_filter_the_list(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    ids = await save_some(services, alice.id, 3)
    tagged = await alice.slash(channel, "library tag", paper=ids[0], tags="#Survey, to-read survey")
    assert "#survey #to-read" in tagged.response.content
    listing = await alice.slash(channel, "library list", tag="SURVEY")
    assert "1 paper" in listing.response.embeds[0].footer.text
    assert "#survey #to-read" in listing.response.embeds[0].description
    too_many = await alice.slash(
        channel, "library tag", paper=ids[0], tags=" ".join(f"t{i}" for i in range(11))
    )
    assert "at most 10 tags" in too_many.response.content

    noted = await alice.slash(channel, "library note", paper=ids[1], text="@everyone read **this** first")
    assert noted.ephemeral and noted.response.content.startswith("Note saved")
    listing = await alice.slash(channel, "library list")
    assert "> @\u200beveryone read \\*\\*this\\*\\* first" in listing.response.embeds[0].description
    entry = await services.library.repository.get(alice.id, (await services.papers.repository.get(ids[1])).pk)  # type: ignore[union-attr]
    assert entry is not None and entry.note == "@everyone read **this** first"
    with pytest.raises(simcord.OptionError):  # Discord's client refuses an over-long note
        await alice.slash(channel, "library note", paper=ids[1], text="x" * (MAX_NOTE_CHARS + 1))
    assert [type(e.original).__name__ for e in env.errors] == ["InvalidInput"]


async def test_export_is_an_attachment_that_parses(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    empty = await alice.slash(channel, "library export", format="bibtex")
    assert empty.ephemeral and "no papers" in empty.response.content
    ids = await save_some(services, alice.id, 12)
    await alice.slash(channel, "library tag", paper=ids[0], tags="survey")

    result = await alice.slash(channel, "library export", format="bibtex")
    assert result.ephemeral and "12 papers as bibtex" in result.response.content
    [attachment] = result.response.attachments
    assert attachment.filename == "library.bib"
    library = bibtexparser.parse_string((await attachment.read()).decode("utf-8"))
    assert len(library.entries) == 12 and library.failed_blocks == []

    only = await alice.slash(channel, "library export", format="ris", tag="survey")
    [attachment] = only.response.attachments
    assert attachment.filename == "library.ris"
    assert (await attachment.read()).decode().count("TY  - ") == 1
    for fmt, name in (("csv", "library.csv"), ("markdown", "library.md")):
        [attachment] = (await alice.slash(channel, "library export", format=fmt)).response.attachments
        assert attachment.filename == name
    assert [type(e.original).__name__ for e in env.errors] == ["InvalidInput"]


async def test_a_big_export_is_deferred_and_other_members_are_answered_while_it_is_written(
    world: Any, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full library takes seconds to write out: the export is deferred at once and written off
    the event loop, so another member's command is answered while the file is still being made."""
    env, channel, alice, bob = world
    await save_some(services, alice.id, 3)
    writing, bob_answered = threading.Event(), threading.Event()
    seen_while_writing: list[bool] = []
    write = bibtex.dumps

    def write_until_bob_is_answered(entries: Any) -> str:
        steps.append("writing")
        writing.set()
        # The timeout only ends the test when the loop is blocked (then Bob is never answered).
        seen_while_writing.append(bob_answered.wait(timeout=60))
        return write(entries)

    monkeypatch.setattr(bibtex, "dumps", write_until_bob_is_answered)
    steps: list[str] = []
    defer = discord.InteractionResponse.defer

    async def defer_and_note(self: Any, *args: Any, **kwargs: Any) -> Any:
        steps.append("deferred")
        return await defer(self, *args, **kwargs)

    monkeypatch.setattr(discord.InteractionResponse, "defer", defer_and_note)
    export = asyncio.create_task(alice.slash(channel, "library export", format="bibtex"))
    await asyncio.to_thread(writing.wait, 60)
    # simcord runs one interaction at a time, so Bob's /library list is its service call here: it
    # can only run while the export is being written if the event loop is free.
    listing = await services.library.page(bob.id)
    assert listing.total == 0
    bob_answered.set()
    result = await export

    assert seen_while_writing == [True]
    assert steps == ["deferred", "writing"]  # Discord had its answer before the slow part began
    assert result.ephemeral
    assert "3 papers as bibtex" in result.response.content
    assert result.response.attachments[0].filename == "library.bib"
    assert not env.errors


async def test_an_export_over_discords_upload_limit_says_so_and_what_to_do(
    world: Any, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, channel, alice, _ = world
    await save_some(services, alice.id, 2)
    too_big = 100 * 1024 * 1024  # over what any interaction allows a bot to upload
    monkeypatch.setattr(bibtex, "dumps", lambda entries: "x" * too_big)
    result = await alice.slash(channel, "library export", format="bibtex")
    assert result.ephemeral and not result.response.attachments
    assert result.response.content.startswith("That export is 100.0 MiB, over Discord's ")
    assert "MiB upload limit: export one tag at a time" in result.response.content
    assert [type(e.original).__name__ for e in env.errors] == ["InvalidInput"]


@pytest.mark.parametrize("over", [1, 50 * 1024])
async def test_an_export_just_over_the_limit_shows_a_size_over_the_limit(
    world: Any, services: Services, monkeypatch: pytest.MonkeyPatch, over: int
) -> None:
    """A file a byte over the limit was "25.0 MiB, over Discord's 25.0 MiB upload limit"; and the
    limit was simcord's 25 MiB, so an export of 10 to 25 MiB went out here and failed on Discord."""
    env, channel, alice, _ = world
    await save_some(services, alice.id, 2)
    monkeypatch.setattr(bibtex, "dumps", lambda entries: "x" * (UPLOAD_BYTES + over))
    result = await alice.slash(channel, "library export", format="bibtex")
    assert not result.response.attachments
    shown = re.match(r"That export is ([\d.]+) MiB, over Discord's ([\d.]+) MiB", result.response.content)
    assert shown is not None, result.response.content
    assert float(shown[1]) > float(shown[2]) == 10.0
    assert [type(e.original).__name__ for e in env.errors] == ["InvalidInput"]


async def test_an_export_of_exactly_the_limit_is_sent(
    world: Any, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, channel, alice, _ = world
    await save_some(services, alice.id, 2)
    monkeypatch.setattr(bibtex, "dumps", lambda entries: "x" * UPLOAD_BYTES)
    result = await alice.slash(channel, "library export", format="bibtex")
    assert [attachment.size for attachment in result.response.attachments] == [UPLOAD_BYTES]
    assert not env.errors


def test_the_help_and_readme_state_the_limit_the_emulator_enforces() -> None:
    stated = f"{UPLOAD_BYTES // 2**20} MiB"
    assert f"up to {stated}, Discord's limit" in Library.export.description
    readme = (Path(__file__).parents[2] / "README.md").read_text("utf-8")
    assert f"Discord's upload limit ({stated} for a bot" in readme


async def test_export_carries_the_primary_arxiv_category_from_the_atom_api(
    world: Any, services: Services
) -> None:
    _, channel, alice, _ = world
    atom = Path(__file__).parent.parent / "fixtures" / "arxiv_atom_query.xml"
    await services.papers.ingest(parse_arxiv_atom(atom.read_bytes()))
    await alice.slash(channel, "library save", paper="2405.18443")
    await alice.slash(channel, "library save", paper="hep-th/9901001")  # no category given

    bib = (await alice.slash(channel, "library export", format="bibtex")).response.attachments[0]
    parsed = bibtexparser.parse_string((await bib.read()).decode("utf-8"))
    entries = {e.fields_dict["eprint"].value: e.fields_dict for e in parsed.entries}
    assert entries["2405.18443"]["primaryClass"].value == "cs.LG"
    assert "primaryClass" not in entries["hep-th/9901001"]
    ris = (await alice.slash(channel, "library export", format="ris")).response.attachments[0]
    records = {r["accession_number"]: r for r in rispy.loads((await ris.read()).decode("utf-8"))}
    assert records["arXiv:2405.18443"]["keywords"] == ["cs.LG"]
    assert "keywords" not in records["arXiv:hep-th/9901001"]


async def test_part_of_a_title_names_the_same_paper_for_show_similar_and_save(world: Any) -> None:
    env, channel, alice, _ = world
    typed = "is complexity req"  # typed without picking a suggestion, as Discord then sends it
    shown = await alice.slash(channel, "papers show", paper=typed)
    assert shown.response.embeds[0].title.startswith("Is Complexity Required")
    similar = await alice.slash(channel, "papers similar", paper=typed)
    assert similar.response.embeds[0].title.startswith("More like “Is Complexity Required")
    saved = await alice.slash(channel, "library save", paper=typed)
    assert saved.response.content.startswith("🔖 Saved “Is Complexity Required")
    missing = await alice.slash(channel, "library save", paper="no such paper title")
    assert "No paper matches" in missing.response.content
    assert [type(e.original).__name__ for e in env.errors] == ["PaperNotFound"]


async def test_library_commands_look_for_part_of_a_title_among_your_own_papers(
    world: Any, services: Services
) -> None:
    _, channel, alice, _ = world
    # Many stored titles hold "federated learning": alice saved one that is not the best ranked.
    suggested = await services.papers.search.suggest("federated learning")
    ranked = [s for s in suggested if {"federated", "learning"} <= set(words(s.title))]
    assert len(ranked) > 3
    mine = ranked[-1]
    await services.library.save(alice.id, mine.paper_id)
    read = await alice.slash(channel, "library read", paper="federated learning")
    assert mine.title[:40] in read.response.content
    tagged = await alice.slash(channel, "library tag", paper="Federated Learn", tags="fl")
    assert mine.title[:40] in tagged.response.content
    listing = await alice.slash(channel, "library list", status="read", tag="fl")
    assert "1 paper" in listing.response.embeds[0].footer.text
    removed = await alice.slash(channel, "library remove", paper="federated learning")
    assert mine.title[:40] in removed.response.content


def test_the_longest_list_fits_a_custom_id() -> None:
    """The custom id carries the whole list: the longest member id, filter and tag, and a page far
    past any library, still within Discord's 100 characters (it refuses longer ones)."""
    longest_tag = parse_tag("ä" * MAX_TAG_CHARS)
    turn = LibraryTurn(2**64 - 1, ReadFilter.UNREAD, longest_tag, 99_999, "n", disabled=False)
    assert len(turn.custom_id) <= 100
