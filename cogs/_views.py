"""Buttons and menus under the bot's messages. Every one is a link or a discord.py dynamic item,
registered once by its cog, whose custom id carries what it needs (a paper id, a page and its kept
list's key, the member it belongs to): no view waits in memory per message, and the ones that
promise it keep working on old messages and after a restart."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any

import discord

from bot.domain.digest import PaperRef, paper_ref
from bot.domain.layout import escape_within, truncate
from bot.domain.models import Paper
from bot.domain.text import clean_line, clean_lines
from bot.errors import InvalidInput
from bot.logging_context import current_context, set_context
from cogs._render import md, paper_embed, paper_links, similar_page

log = logging.getLogger(__name__)

WRITE_WAIT = 10.0  # seconds a menu's write may wait for a busy database (after deferring)

NOT_YOURS = "These buttons belong to the member who ran the command: run it yourself to get your own."


async def sent_message(
    interaction: discord.Interaction[Any], sent: discord.InteractionCallbackResponse[Any]
) -> discord.InteractionMessage:
    """The message a response created: Discord returns it with the callback, so no second request
    (one fewer per search under load); fetched only if a response came without it."""
    if isinstance(sent.resource, discord.InteractionMessage):
        return sent.resource
    return await interaction.original_response()


def components(*items: discord.ui.Item[Any]) -> discord.ui.View:
    """A message's buttons and menus, every one a link or a dynamic item (registered once by its
    cog, its custom id carrying its state). The view is stopped before it is sent, so discord.py
    keeps nothing for it: a live view sent with an ephemeral answer gets a 15-minute timeout from
    discord.py, a timer task holding the view, its items and their options, even when no item
    needs it."""
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    view.stop()
    return view


def component_context(interaction: discord.Interaction[Any], command: str, label: str) -> None:
    """Log a press like a command: the server, the member and the command that made the button
    (a button runs in its own task, outside the command's context)."""
    set_context(guild=interaction.guild_id, user=interaction.user.id, command=f"{command} [{label}]")
    log.info("component %s of /%s", label, command)


EXPIRED = "This list has expired: run the command again to see its pages."
EXPIRED_RANDOM = "This button has expired: run /papers random again for another paper."


def page_blob(
    pages: Sequence[discord.Embed | str], papers: Sequence[Sequence[PaperRef]] | None = None
) -> bytes:
    """A paged answer as the compact blob ``PageLists`` keeps: each page's message fields as
    Discord receives them, and with ``papers`` (per page) what the page's Save menu offers."""
    shown = [{"content": page} if isinstance(page, str) else {"embed": page.to_dict()} for page in pages]
    return json.dumps({"pages": shown, "papers": papers}, ensure_ascii=False).encode()


def paged(
    client: Any,
    owner_id: int,
    pages: Sequence[discord.Embed | str],
    papers: Sequence[Sequence[PaperRef]] | None = None,
) -> dict[str, Any]:
    """The first page of a paged answer with its Previous/Next (and Save) components, as send
    keywords; the pages are kept in ``client.page_lists``."""
    key = client.page_lists.keep(owner_id, _running_command("pages"), page_blob(pages, papers))
    first = pages[0]
    fields: dict[str, Any] = {"content": first} if isinstance(first, str) else {"embed": first}
    refs = papers[0] if papers else None
    return fields | {"view": _page_buttons(key, owner_id, 0, len(pages), refs)}


def paged_blob(client: Any, owner_id: int, blob: bytes) -> dict[str, Any]:
    """``paged`` for an answer already encoded by ``page_blob``: one page with its Save menu, or
    the first page with Previous/Next."""
    answer = json.loads(blob)
    shown, papers = answer["pages"], answer["papers"]
    fields = _page_fields(shown[0])
    refs = [(paper_id, title) for paper_id, title in papers[0]] if papers else None
    if len(shown) == 1:
        return fields | with_view(save_menu(refs) if refs else None)
    key = client.page_lists.keep(owner_id, _running_command("pages"), blob)
    return fields | {"view": _page_buttons(key, owner_id, 0, len(shown), refs)}


def _page_fields(page: dict[str, Any]) -> dict[str, Any]:
    if "content" in page:
        return {"content": page["content"], "embed": None}
    return {"embed": discord.Embed.from_dict(page["embed"])}


def _running_command(default: str) -> str:
    """The command being answered (its buttons' log lines name it), as the log context has it."""
    made_by = current_context()
    return made_by.command if made_by and made_by.command else default


def _page_buttons(
    key: str, owner_id: int, index: int, count: int, refs: Sequence[PaperRef] | None
) -> discord.ui.View:
    turns = (
        PageTurn(key, max(0, index - 1), "p", owner_id, disabled=index == 0),
        PageTurn(key, min(count - 1, index + 1), "n", owner_id, disabled=index >= count - 1),
    )
    if refs:
        return components(*turns, SaveFromList([(paper_id, title) for paper_id, title in refs]))
    return components(*turns)


def turn_button(way: str, custom_id: str, *, disabled: bool) -> discord.ui.Button[Any]:
    """Previous (``way`` "p") or Next ("n") under a paged message."""
    previous = way == "p"
    return discord.ui.Button(
        label="Previous" if previous else "Next",
        emoji="◀" if previous else "▶",
        style=discord.ButtonStyle.secondary,
        disabled=disabled,
        custom_id=custom_id,
    )


class PageTurn(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"pages:(?P<key>[0-9a-f]+):(?P<page>[0-9]+):(?P<way>[pn]):(?P<owner>[0-9]+)",
):
    """Previous or Next under a paged answer: only the member who asked turns its pages. Its custom
    id names the kept list and the page it shows, so no view waits in memory for the click."""

    def __init__(self, key: str, page: int, way: str, owner_id: int, *, disabled: bool = False) -> None:
        super().__init__(turn_button(way, f"pages:{key}:{page}:{way}:{owner_id}", disabled=disabled))
        self.key, self.page, self.owner_id = key, page, owner_id
        self.label = str(self.item.label)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PageTurn:
        return cls(match["key"], int(match["page"]), match["way"], int(match["owner"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        kept = interaction.client.page_lists.get(self.key)
        command = kept.command if kept is not None else "pages"
        component_context(interaction, command, self.label)
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return
        if kept is None:
            await interaction.response.send_message(EXPIRED, ephemeral=True)
            return
        answer = json.loads(kept.blob)
        shown, papers = answer["pages"], answer["papers"]
        index = min(self.page, len(shown) - 1)
        fields = _page_fields(shown[index])
        view = _page_buttons(self.key, self.owner_id, index, len(shown), papers[index] if papers else None)
        await interaction.response.edit_message(**fields, view=view)


def another_one(client: Any, owner_id: int, topic: str | None, paper: Paper) -> discord.ui.View:
    """Under a random paper: "Another one" (for the member who asked, on the same topic, kept
    like a paged answer's pages), then the paper's links, Save and Similar."""
    key = client.page_lists.keep(
        owner_id, _running_command("papers random"), json.dumps({"topic": topic}).encode()
    )
    return _another_one_buttons(key, owner_id, paper)


def _another_one_buttons(key: str, owner_id: int, paper: Paper) -> discord.ui.View:
    return components(AnotherOne(key, owner_id), *paper_items(paper))


class AnotherOne(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"another:(?P<key>[0-9a-f]+):(?P<owner>[0-9]+)"
):
    """ "Another one": replaces the message with a fresh random paper on the same topic."""

    def __init__(self, key: str, owner_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Another one",
                emoji="🎲",
                style=discord.ButtonStyle.primary,
                custom_id=f"another:{key}:{owner_id}",
            )
        )
        self.key, self.owner_id = key, owner_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> AnotherOne:
        return cls(match["key"], int(match["owner"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        from bot.client import PaperTree

        kept = interaction.client.page_lists.get(self.key)
        command = kept.command if kept is not None else "papers random"
        component_context(interaction, command, "Another one")
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return
        if kept is None:
            await interaction.response.send_message(EXPIRED_RANDOM, ephemeral=True)
            return
        try:
            paper = await interaction.client.services.papers.random(json.loads(kept.blob)["topic"])
        except Exception as error:  # dynamic items bypass views' error handlers: answer like a command
            await PaperTree.handle(interaction, error)
            return
        if paper is None:  # the papers on its topic are gone since
            await interaction.response.send_message(EXPIRED_RANDOM, ephemeral=True)
            return
        view = _another_one_buttons(self.key, self.owner_id, paper)
        await interaction.response.edit_message(embed=paper_embed(paper), view=view)


FOLLOW_MENU_ID = "follow-keyword"


def followable(keywords: Sequence[str]) -> list[str]:
    """The keywords a menu can offer: cleaned again (one stored before blanks were judged after
    cleaning may be only zero-width characters, and Discord refuses an empty option label), each
    within an option's 100 characters, at most the menu's 25."""
    return list(dict.fromkeys(keyword[:100].strip() for keyword in clean_lines(keywords)))[:25]


class FollowKeywords(discord.ui.DynamicItem[discord.ui.Select[Any]], template=FOLLOW_MENU_ID):
    """A menu under a paper: follow one of its keywords (for whoever picks it). The keyword is the
    option's value, so the menu keeps working on old messages and after a restart."""

    def __init__(self, keywords: Sequence[str] = ()) -> None:
        unique = followable(keywords)
        options = [discord.SelectOption(label=k, value=k) for k in unique]
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=FOLLOW_MENU_ID,
            placeholder="Follow a keyword of this paper…",
            options=options or [discord.SelectOption(label="-", value="-")],
        )
        super().__init__(select)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> FollowKeywords:
        return cls()

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        from bot.client import PaperTree, respond, writes_may_wait

        writes_may_wait(interaction, WRITE_WAIT)
        try:
            if interaction.guild_id is None:
                raise InvalidInput("Follow keywords from inside a server.")
            added = await interaction.client.services.follows.add(
                interaction.user.id, interaction.guild_id, _chosen(interaction)
            )
        except Exception as error:  # dynamic items bypass views' error handlers: answer like a command
            await PaperTree.handle(interaction, error)
            return
        text = f"Following “{md(added.keyword)}”. New matching papers will come to you by DM."
        await respond(interaction, text, ephemeral=True)


# ---- saving to a member's library: works for whoever clicks, on any message, across restarts -----------

MAX_CUSTOM_ID = 100


def saved_text(title: str, created: bool) -> str:
    shown = escape_within(clean_line(title), 200)
    if created:
        return f"🔖 Saved “{shown}” to your library. See it with /library list."
    return f"“{shown}” is already in your library."


async def _save(interaction: discord.Interaction[Any], paper_id: str) -> None:
    from bot.client import PaperTree, respond, writes_may_wait

    writes_may_wait(interaction, WRITE_WAIT)
    try:
        saved = await interaction.client.services.library.save(
            interaction.user.id, paper_id, guild_id=interaction.guild_id
        )
    except Exception as error:  # dynamic items bypass views' error handlers: answer like a command
        await PaperTree.handle(interaction, error)
        return
    await respond(interaction, saved_text(saved.title, saved.created), ephemeral=True)


def savable(paper_id: str) -> bool:
    return len(SavePaper.custom_id_for(paper_id)) <= MAX_CUSTOM_ID


class SavePaper(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"save:(?P<id>\S+)"):
    """A "Save" button for one paper; its custom id carries the paper id, so it keeps working on
    old messages and after a restart, for anyone who clicks it (into their own library)."""

    def __init__(self, paper_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Save",
                emoji="🔖",
                style=discord.ButtonStyle.secondary,
                custom_id=self.custom_id_for(paper_id),
            )
        )
        self.paper_id = paper_id

    @staticmethod
    def custom_id_for(paper_id: str) -> str:
        return f"save:{paper_id}"

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> SavePaper:
        return cls(match["id"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _save(interaction, self.paper_id)


SAVE_MENU_ID = "save-menu"


class SaveFromList(discord.ui.DynamicItem[discord.ui.Select[Any]], template=SAVE_MENU_ID):
    """A "Save a paper…" menu under a list of papers (digest, alert DM, search page)."""

    def __init__(self, papers: Sequence[PaperRef] = ()) -> None:
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=SAVE_MENU_ID,
            placeholder="🔖 Save a paper to your library…",
            options=_paper_options(papers),
        )
        super().__init__(select)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> SaveFromList:
        return cls()

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _save(interaction, _chosen(interaction))


VOTE_MENU_ID = "vote-menu"


class VoteFromList(discord.ui.DynamicItem[discord.ui.Select[Any]], template=VOTE_MENU_ID):
    """A "👍 Vote for a paper…" menu under a digest post: the server's own votes, one per member and
    paper; choosing a paper you voted for takes the vote back."""

    def __init__(self, papers: Sequence[PaperRef] = ()) -> None:
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=VOTE_MENU_ID,
            placeholder="👍 Vote for a paper (again: take the vote back)…",
            options=_paper_options(papers),
        )
        super().__init__(select)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> VoteFromList:
        return cls()

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _vote(interaction, _chosen(interaction))


class VoteToggle(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"vote:(?P<id>\S+)"):
    """Under the private answer to a vote: take it back, or vote again (a select menu keeps showing
    the choice just made, so choosing it again may not reach the bot)."""

    def __init__(self, paper_id: str, *, voted: bool = True) -> None:
        super().__init__(
            discord.ui.Button(
                label="Take my vote back" if voted else "Vote again",
                emoji="👍",
                style=discord.ButtonStyle.secondary,
                custom_id=f"vote:{paper_id}",
            )
        )
        self.paper_id = paper_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> VoteToggle:
        return cls(match["id"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _vote(interaction, self.paper_id)


async def _vote(interaction: discord.Interaction[Any], paper_id: str) -> None:
    from bot.client import PaperTree, respond, writes_may_wait

    writes_may_wait(interaction, WRITE_WAIT)
    try:
        vote = await interaction.client.services.votes.toggle(
            interaction.guild_id, interaction.user.id, paper_id
        )
    except Exception as error:  # dynamic items bypass views' error handlers: answer like a command
        await PaperTree.handle(interaction, error)
        return
    title = escape_within(clean_line(vote.title), 200)
    count = f"{vote.count} vote{'s' * (vote.count != 1)} in this server"
    text = f"👍 Voted for “{title}” ({count})." if vote.voted else f"Vote for “{title}” taken back ({count})."
    fits = len(f"vote:{vote.paper_id}") <= MAX_CUSTOM_ID
    view = components(VoteToggle(vote.paper_id, voted=vote.voted)) if fits else components()
    await respond(interaction, text, ephemeral=True, view=view)


def _chosen(interaction: discord.Interaction[Any]) -> str:
    """The option a member picked in a menu ("" if none came)."""
    data: Any = interaction.data or {}
    values = data.get("values") or []
    return str(values[0]) if values else ""


def _paper_options(papers: Sequence[PaperRef]) -> list[discord.SelectOption]:
    """A menu's options: each paper once, at most 25 (Discord's limit), never an empty menu."""
    options = [
        discord.SelectOption(label=truncate(clean_line(title), 100) or paper_id, value=paper_id)
        for paper_id, title in list(dict.fromkeys(papers))[:25]
        if len(paper_id) <= 100
    ]
    return options or [discord.SelectOption(label="-", value="-")]


def with_view(view: discord.ui.View | None) -> dict[str, Any]:
    """``view=`` for send calls when there is a view (discord.py refuses ``view=None``)."""
    return {} if view is None else {"view": view}


def save_menu(papers: Sequence[PaperRef], *, votes: bool = False) -> discord.ui.View | None:
    """Components with the Save menu for ``papers`` and, with ``votes`` (a server's digest),
    the Vote menu below it: two rows of Discord's five (None when there is nothing to save)."""
    refs = [ref for ref in papers if len(ref[0]) <= 100]
    if not refs:
        return None
    if votes:
        return components(SaveFromList(refs), VoteFromList(refs))
    return components(SaveFromList(refs))


class SimilarButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"similar:(?P<id>\S+)"):
    """A "Similar" button for one paper: answers whoever clicks with papers like it, privately."""

    def __init__(self, paper_id: str) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="Similar", emoji="🧭", style=discord.ButtonStyle.secondary, custom_id=f"similar:{paper_id}"
        )
        super().__init__(button)
        self.paper_id = paper_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> SimilarButton:
        return cls(match["id"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        from bot.client import PaperTree

        try:
            embed, view = await similar_reply(interaction.client, self.paper_id)
        except Exception as error:  # dynamic items bypass views' error handlers: answer like a command
            await PaperTree.handle(interaction, error)
            return
        await interaction.response.send_message(embed=embed, ephemeral=True, **with_view(view))


SIMILAR_LIMIT = 8


async def similar_reply(client: Any, reference: str) -> tuple[discord.Embed, discord.ui.View | None]:
    """The embed (and Save menu) listing papers like ``reference``; ``client`` is the PaperBot."""
    services = client.services
    source = await services.papers.show(reference)
    hits = await services.similar.similar(source, limit=SIMILAR_LIMIT)
    return similar_page(source, hits), save_menu([paper_ref(hit.paper) for hit in hits])


def paper_items(paper: Paper) -> list[discord.ui.Item[Any]]:
    """Under one paper: its link buttons, Save and Similar."""
    items: list[discord.ui.Item[Any]] = [*paper_links(paper)]
    if savable(paper.id):
        items += [SavePaper(paper.id), SimilarButton(paper.id)]
    return items
