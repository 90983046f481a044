"""/privacy forget: after a confirmation button, delete everything paperbot keeps about the member."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import PaperBot, PaperTree
from bot.domain.about import MEMBER_DATA
from bot.domain.layout import plural
from cogs._views import NOT_YOURS, component_context, components

CONFIRM_FOR = timedelta(seconds=120)
QUESTION = "This deletes everything paperbot keeps about you, for good:\n{kept}\nDelete it all?"
CANCELLED = "Nothing was deleted."
EXPIRED_CONFIRMATION = "This question has expired and nothing was deleted: run /privacy forget again."


class ConfirmForget(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"forget:(?P<owner>[0-9]+):(?P<deadline>[0-9]+):(?P<answer>yes|no)",
):
    """ "Delete everything" or "Cancel" under the question, for the member who asked, until its
    deadline. Both are in the custom id: the answer holds after a restart (a view would have gone
    with the process, and the button would answer nothing), the question still expires after two
    minutes, across a restart too, and no view or timer waits in memory for it."""

    def __init__(self, owner_id: int, deadline: int, answer: str, *, disabled: bool = False) -> None:
        confirm = answer == "yes"
        super().__init__(
            discord.ui.Button(
                label="Delete everything" if confirm else "Cancel",
                emoji="🗑️" if confirm else None,
                style=discord.ButtonStyle.danger if confirm else discord.ButtonStyle.secondary,
                disabled=disabled,
                custom_id=f"forget:{owner_id}:{deadline}:{answer}",
            )
        )
        self.owner_id, self.deadline, self.confirm = owner_id, deadline, confirm

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ConfirmForget:
        return cls(int(match["owner"]), int(match["deadline"]), match["answer"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        component_context(interaction, "privacy forget", "Delete everything" if self.confirm else "Cancel")
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return
        answered = confirmation(self.owner_id, self.deadline, disabled=True)
        if not self.confirm:
            await interaction.response.edit_message(content=CANCELLED, view=answered)
            return
        if interaction.client.services.clock().timestamp() > self.deadline:
            await interaction.response.edit_message(content=EXPIRED_CONFIRMATION, view=answered)
            return
        try:
            forgotten = await interaction.client.services.privacy.forget(interaction.user.id)
        except Exception as error:  # dynamic items bypass views' error handlers: answer like a command
            await PaperTree.handle(interaction, error)
            return
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
        await interaction.response.edit_message(content=text, view=answered)


def confirmation(owner_id: int, deadline: int, *, disabled: bool = False) -> discord.ui.View:
    return components(
        ConfirmForget(owner_id, deadline, "yes", disabled=disabled),
        ConfirmForget(owner_id, deadline, "no", disabled=disabled),
    )


def deadline_after(now: datetime) -> int:
    """The question's deadline in whole seconds since the epoch (rounded up: never shorter)."""
    return math.ceil((now + CONFIRM_FOR).timestamp())


@app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
class Privacy(commands.GroupCog, group_name="privacy", group_description="What paperbot keeps about you"):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot
        super().__init__()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ConfirmForget)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(ConfirmForget)

    @app_commands.command(
        name="forget", description="Delete everything paperbot keeps about you (asks first)"
    )
    async def forget(self, interaction: discord.Interaction[PaperBot]) -> None:
        kept = "\n".join(f"• {line}" for line in MEMBER_DATA)
        deadline = deadline_after(self.bot.services.clock())
        await interaction.response.send_message(
            QUESTION.format(kept=kept), view=confirmation(interaction.user.id, deadline), ephemeral=True
        )


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Privacy(bot))
