"""Interactive views: buttons that only the member who ran the command can press."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord

from bot.domain.digest import PaperRef, paper_ref
from bot.domain.layout import escape, truncate
from bot.domain.models import Paper
from bot.domain.text import clean_line
from bot.logging_context import current_context, set_context
from cogs._render import paper_links, similar_page

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


class LoggedView(discord.ui.View):
    """A view whose clicks log like commands: each line carries the server, the member and the
    command that made the view (its buttons run in their own task, outside the command's context)."""

    def __init__(self, *, timeout: float | None) -> None:
        super().__init__(timeout=timeout)
        made_by = current_context()
        self.command = made_by.command if made_by and made_by.command else type(self).__name__

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        data: dict[str, Any] = dict(interaction.data or {})
        component = self._component_name(str(data.get("custom_id")))
        set_context(
            guild=interaction.guild_id, user=interaction.user.id, command=f"{self.command} [{component}]"
        )
        log.info("component %s of /%s", component, self.command)
        return True

    def _component_name(self, custom_id: str) -> str:
        """The clicked item as a member sees it (its label), not its random custom id."""
        for item in self.children:
            if getattr(item, "custom_id", None) == custom_id:
                return str(getattr(item, "label", None) or getattr(item, "placeholder", None) or custom_id)
        return custom_id


class OwnedView(LoggedView):
    """Buttons for one member; disabled (and the message edited) when the view times out."""

    def __init__(self, owner_id: int, *, timeout: float = 180) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.message: discord.InteractionMessage | discord.Message | None = None

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        await super().interaction_check(interaction)
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return False
        return True

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button) and item.url is None:
                item.disabled = True
        if self.message is not None:
            # Deleted or no longer editable: nothing left to disable.
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(view=self)


class Paginator(OwnedView):
    """Previous/Next over pages that are embeds or plain message texts; with ``papers`` per page, a
    Save menu for the shown page's papers."""

    def __init__(
        self,
        owner_id: int,
        embeds: Sequence[discord.Embed | str],
        *,
        papers: Sequence[Sequence[PaperRef]] | None = None,
        timeout: float = 180,
    ) -> None:
        super().__init__(owner_id, timeout=timeout)
        self.embeds = list(embeds)
        self.papers = list(papers) if papers else None
        self.index = 0
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= len(self.embeds) - 1
        if self.papers is not None:
            for item in list(self.children):
                if isinstance(item, SaveFromList):
                    self.remove_item(item)
            if self.papers[self.index]:
                self.add_item(SaveFromList(self.papers[self.index]))

    def page(self) -> dict[str, Any]:
        """The current page as message fields (an embed, or content)."""
        shown = self.embeds[self.index]
        return {"content": shown, "embed": None} if isinstance(shown, str) else {"embed": shown}

    @discord.ui.button(label="Previous", emoji="◀", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, _: discord.ui.Button[Paginator]) -> None:
        self.index = max(0, self.index - 1)
        self._sync_buttons()
        await interaction.response.edit_message(**self.page(), view=self)

    @discord.ui.button(label="Next", emoji="▶", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, _: discord.ui.Button[Paginator]) -> None:
        self.index = min(len(self.embeds) - 1, self.index + 1)
        self._sync_buttons()
        await interaction.response.edit_message(**self.page(), view=self)


Reroll = Callable[[], Awaitable[tuple[discord.Embed, discord.ui.View]]]


class AnotherOne(OwnedView):
    """A "Another one" button that replaces the message with a fresh random paper."""

    def __init__(
        self, owner_id: int, reroll: Reroll, links: discord.ui.View, *, timeout: float = 180
    ) -> None:
        super().__init__(owner_id, timeout=timeout)
        self._reroll = reroll
        self._add_links(links)

    def _add_links(self, links: discord.ui.View) -> None:
        """Swap in the new paper's link buttons and paper actions (Save, ...)."""
        for item in list(self.children):
            if (isinstance(item, discord.ui.Button) and item.url is not None) or isinstance(
                item, discord.ui.DynamicItem
            ):
                self.remove_item(item)
        for link in links.children:
            if isinstance(link, discord.ui.Button) and link.url is not None:
                self.add_item(discord.ui.Button(label=link.label, url=link.url))
            elif isinstance(link, discord.ui.DynamicItem):
                self.add_item(link)

    @discord.ui.button(label="Another one", emoji="🎲", style=discord.ButtonStyle.primary)
    async def another(self, interaction: discord.Interaction, _: discord.ui.Button[AnotherOne]) -> None:
        embed, links = await self._reroll()
        self._add_links(links)
        await interaction.response.edit_message(embed=embed, view=self)


class _KeywordMenu(discord.ui.Select["FollowKeywords"]):
    def __init__(self, keywords: Sequence[str], follow: FollowKeyword) -> None:
        unique = list(dict.fromkeys(k[:100] for k in keywords))[:25]
        options = [discord.SelectOption(label=k, value=k) for k in unique]
        super().__init__(placeholder="Follow a keyword of this paper…", options=options)
        self._follow = follow

    async def callback(self, interaction: discord.Interaction) -> None:
        from bot.client import respond, writes_may_wait

        writes_may_wait(interaction, WRITE_WAIT)
        text = await self._follow(interaction.user.id, interaction.guild_id, self.values[0])
        await respond(interaction, text, ephemeral=True)


class FollowKeywords(LoggedView):
    """A menu under a paper: follow one of its keywords (for whoever picks it)."""

    def __init__(self, keywords: Sequence[str], follow: FollowKeyword, *, timeout: float = 600) -> None:
        super().__init__(timeout=timeout)
        self.menu = _KeywordMenu(keywords, follow)
        self.add_item(self.menu)
        self.message: discord.InteractionMessage | discord.Message | None = None

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        from bot.client import PaperTree

        # The same friendly replies as for commands: a view is not covered by the tree's handler.
        await PaperTree.handle(interaction, error)

    async def on_timeout(self) -> None:
        self.menu.disabled = True
        if self.message is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(view=self)


FollowKeyword = Callable[[int, int | None, str], Awaitable[str]]


# ---- saving to a member's library: works for whoever clicks, on any message, across restarts -----------

MAX_CUSTOM_ID = 100


def saved_text(title: str, created: bool) -> str:
    shown = escape(truncate(clean_line(title), 200))
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
        data: Any = interaction.data or {}
        values = data.get("values") or []
        await _save(interaction, str(values[0]) if values else "")


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
        data: Any = interaction.data or {}
        values = data.get("values") or []
        await _vote(interaction, str(values[0]) if values else "")


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
    title = escape(truncate(clean_line(vote.title), 200))
    count = f"{vote.count} vote{'s' * (vote.count != 1)} in this server"
    text = f"👍 Voted for “{title}” ({count})." if vote.voted else f"Vote for “{title}” taken back ({count})."
    view = discord.ui.View(timeout=None)
    if len(f"vote:{vote.paper_id}") <= MAX_CUSTOM_ID:
        view.add_item(VoteToggle(vote.paper_id, voted=vote.voted))
    await respond(interaction, text, ephemeral=True, view=view)


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
    """A persistent view with the Save menu for ``papers`` and, with ``votes`` (a server's digest),
    the Vote menu below it: two rows of Discord's five (None when there is nothing to save)."""
    refs = [ref for ref in papers if len(ref[0]) <= 100]
    if not refs:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(SaveFromList(refs))
    if votes:
        view.add_item(VoteFromList(refs))
    return view


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


def paper_view(paper: Paper) -> discord.ui.View:
    """Under one paper: its link buttons, Save and Similar."""
    view = paper_links(paper)
    if savable(paper.id):
        view.add_item(SavePaper(paper.id))
        view.add_item(SimilarButton(paper.id))
    return view
