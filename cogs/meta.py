"""/help and /about: what the member can do here, and what paperbot is and keeps about them."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

import bot as paperbot
from bot.client import INVITE_PERMISSIONS, PaperBot
from bot.domain.about import CommandHelp, help_fields, synthesized_example
from cogs import _render

Leaf = app_commands.Command[commands.Cog, ..., None]


class Meta(commands.Cog):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="help",
        description="The commands you can use here, with an example each",
        extras={"example": "/help"},
    )
    async def help(self, interaction: discord.Interaction[PaperBot]) -> None:
        usable = [
            CommandHelp(command.qualified_name, command.description, _example(command))
            for command in self.bot.tree.walk_commands()
            if isinstance(command, app_commands.Command) and await self._usable(interaction, command)
        ]
        where = "in this server" if interaction.guild else "here (in a server you can do more)"
        embed = _render.help_embed(help_fields(usable, value_limit=_render.FIELD_VALUE), where=where)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(
        name="about",
        description="Version, sources, uptime, invite link, and what paperbot keeps about you",
        extras={"example": "/about"},
    )
    async def about(self, interaction: discord.Interaction[PaperBot]) -> None:
        stats = await self.bot.services.papers.stats()
        last_fetches = await self.bot.services.last_fetches(self.bot.settings.sources.enabled)
        invite = (
            discord.utils.oauth_url(
                self.bot.application_id,
                permissions=INVITE_PERMISSIONS,
                scopes=("bot", "applications.commands"),
            )
            if self.bot.application_id
            else None
        )
        embed = _render.about_embed(
            version=paperbot.__version__,
            stats=stats,
            last_fetches=last_fetches,
            store_bytes=self.bot.services.database.file_size(),
            uptime=self.bot.health.uptime(),
            invite=invite,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    async def _usable(self, interaction: discord.Interaction[PaperBot], command: Leaf) -> bool:
        """Would this member be allowed to run it here? The same rules the commands enforce: where
        it works (server only), the permissions its group needs by default or it checks itself
        (``extras["permissions"]``), and owner-only commands."""
        root = command.root_parent or command
        in_server = interaction.guild is not None
        if not in_server and (root.guild_only or command.extras.get("guild_only")):
            return False
        needed = discord.Permissions(**dict.fromkeys(command.extras.get("permissions", ()), True))
        if root.default_permissions is not None:
            needed |= root.default_permissions
        if needed.value and not (in_server and needed.is_subset(interaction.permissions)):
            return False
        return not command.extras.get("owner_only") or await self.bot.is_owner(interaction.user)


def _example(command: Leaf) -> str:
    curated = command.extras.get("example")
    if isinstance(curated, str):
        return curated
    return synthesized_example(
        command.qualified_name, [p.display_name for p in command.parameters if p.required]
    )


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Meta(bot))
