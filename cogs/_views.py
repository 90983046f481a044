"""Interactive views: buttons that only the member who ran the command can press."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord

from bot.logging_context import current_context, set_context

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
    """Previous/Next over pages that are embeds or plain message texts."""

    def __init__(self, owner_id: int, embeds: Sequence[discord.Embed | str], *, timeout: float = 180) -> None:
        super().__init__(owner_id, timeout=timeout)
        self.embeds = list(embeds)
        self.index = 0
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= len(self.embeds) - 1

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
        for item in list(self.children):
            if isinstance(item, discord.ui.Button) and item.url is not None:
                self.remove_item(item)
        for link in links.children:
            if isinstance(link, discord.ui.Button):
                self.add_item(discord.ui.Button(label=link.label, url=link.url))

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
