"""Owner-only maintenance: syncing the command tree is explicit, never done on start."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import PaperBot


async def _is_owner(interaction: discord.Interaction[PaperBot]) -> bool:
    return await interaction.client.is_owner(interaction.user)


# Discord applies default permissions per top-level command: they go on the group.
@app_commands.guild_only()
@app_commands.default_permissions(administrator=True)
class Admin(commands.GroupCog, group_name="admin", group_description="Bot owner tools"):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(
        name="sync",
        description="Publish the slash commands (globally, or to this server only)",
        extras={"owner_only": True, "example": "/admin sync here:True"},
    )
    @app_commands.describe(
        here="Only this server: instant, for testing (default: everywhere, may take a while)"
    )
    @app_commands.check(_is_owner)
    async def sync(self, interaction: discord.Interaction[PaperBot], here: bool = False) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = interaction.guild_id if here else None
        synced = await self.bot.publish_commands(guild_id)
        where = "this server" if guild_id else "every server"
        await interaction.followup.send(f"Synced {len(synced)} commands to {where}.", ephemeral=True)


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Admin(bot))
