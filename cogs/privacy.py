"""/privacy forget: after a confirmation button, delete everything paperbot keeps about the member."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import PaperBot
from bot.domain.about import MEMBER_DATA
from bot.domain.layout import plural
from cogs._views import OwnedView

CONFIRM_SECONDS = 120


class ConfirmForget(OwnedView):
    """ "Delete everything" / "Cancel", for the member who asked; nothing happens on timeout."""

    def __init__(self, bot: PaperBot, owner_id: int) -> None:
        super().__init__(owner_id, timeout=CONFIRM_SECONDS)
        self.bot = bot

    def _close(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        self.stop()

    @discord.ui.button(label="Delete everything", emoji="🗑️", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction, _: discord.ui.Button[ConfirmForget]) -> None:
        forgotten = await self.bot.services.privacy.forget(interaction.user.id)
        self._close()
        text = (
            "Done: paperbot has forgotten you — "
            f"{plural(forgotten.follows, 'follow')}, {plural(forgotten.saved, 'saved paper')} and "
            f"{plural(forgotten.alerts, 'alert record')} deleted, with your settings and servers."
        )
        if forgotten.stopped_in_flight:
            text += (
                " A DM that was being sent to you stops here: at most the message already on its"
                " way arrives, nothing after it."
            )
        await interaction.response.edit_message(content=text, view=self)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, _: discord.ui.Button[ConfirmForget]) -> None:
        self._close()
        await interaction.response.edit_message(content="Nothing was deleted.", view=self)


@app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
class Privacy(commands.GroupCog, group_name="privacy", group_description="What paperbot keeps about you"):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(
        name="forget", description="Delete everything paperbot keeps about you (asks first)"
    )
    async def forget(self, interaction: discord.Interaction[PaperBot]) -> None:
        kept = "\n".join(f"• {line}" for line in MEMBER_DATA)
        view = ConfirmForget(self.bot, interaction.user.id)
        await interaction.response.send_message(
            f"This deletes everything paperbot keeps about you, for good:\n{kept}\nDelete it all?",
            view=view,
            ephemeral=True,
        )
        view.message = await interaction.original_response()


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Privacy(bot))
