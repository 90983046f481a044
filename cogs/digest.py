"""/digest: each server's daily papers post. Admins only (Manage Server)."""

from __future__ import annotations

import logging
from datetime import timedelta

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import PaperBot, respond
from bot.domain.schedule import ListMode, timezone_choices
from bot.errors import InvalidInput
from bot.scheduler import DigestScheduler
from bot.services.digest import MAX_PAPERS_LIMIT, PostOutcome
from cogs import _render
from cogs._poster import DiscordPoster

log = logging.getLogger(__name__)

NEEDED = ("view_channel", "send_messages", "embed_links", "read_message_history")
NEEDED_FOR_THREADS = ("create_public_threads", "send_messages_in_threads")


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Digest(commands.GroupCog, group_name="digest", group_description="This server's daily papers post"):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot
        self.service = bot.services.digests
        self.poster = DiscordPoster(bot)
        self.scheduler = DigestScheduler(
            post_due=self.post_due, tick=timedelta(seconds=bot.settings.digest.tick_seconds)
        )
        self._caught_up = False
        super().__init__()

    async def cog_load(self) -> None:
        if self.bot.settings.digest.scheduler:
            # Only this process's servers get timers: another process posts the rest.
            self.scheduler.start(await self.service.owned_configs())

    async def cog_unload(self) -> None:
        self.scheduler.shutdown()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        # Catch up at once after a start (a post missed while down, or one interrupted mid-way).
        if self._caught_up or not self.bot.settings.digest.scheduler:
            return
        self._caught_up = True
        outcomes = await self.post_due()
        log.info("digest catch-up at start: %d posted", sum(o.state == "posted" for o in outcomes))

    async def interaction_check(self, interaction: discord.Interaction[PaperBot]) -> bool:  # type: ignore[override]
        # default_permissions only hides the commands; server settings can override it, so check too.
        if interaction.guild is None:
            raise app_commands.NoPrivateMessage()
        if not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    # ---- jobs (called by the scheduler) --------------------------------------------------------

    async def post_due(self) -> list[PostOutcome]:
        outcomes = await self.service.run_due(self.poster)
        for outcome in outcomes:
            log.info("digest for guild %s on %s: %s", outcome.guild_id, outcome.post_day, outcome.state)
            if outcome.state == "failed":
                self.scheduler.remove(outcome.guild_id)
        self.bot.health.ticked()  # only a pass that finished counts: a stuck one goes stale
        return outcomes

    # ---- commands ------------------------------------------------------------------------------

    @app_commands.command(
        name="setup",
        description="Post the daily papers in a channel at a local time",
        extras={"example": "/digest setup channel:#papers time:09:00 timezone:Europe/Berlin"},
    )
    @app_commands.describe(
        channel="Where the digest goes",
        time="Local time of day, 24-hour HH:MM (e.g. 09:00)",
        timezone="IANA time zone, e.g. Europe/Berlin (start typing to search)",
        max_papers=f"How many papers at most (1-{MAX_PAPERS_LIMIT}, default 10)",
        weekdays_only="Skip Saturdays and Sundays (default: no)",
        thread="Open a discussion thread on each post (default: no)",
        list="complete: yesterday's whole list (default); so-far: today's list as it stands",
    )
    @app_commands.choices(
        list=[
            app_commands.Choice(name="complete: the whole of yesterday's list", value="complete"),
            app_commands.Choice(name="so-far: today's list as it stands, the rest next time", value="so-far"),
        ]
    )
    async def setup(
        self,
        interaction: discord.Interaction[PaperBot],
        channel: discord.TextChannel,
        time: app_commands.Range[str, 3, 5],
        timezone: app_commands.Range[str, 1, 64],
        max_papers: app_commands.Range[int, 1, MAX_PAPERS_LIMIT] = 10,
        weekdays_only: bool = False,
        thread: bool = False,
        list: str = ListMode.COMPLETE.value,
    ) -> None:
        assert interaction.guild is not None
        missing = [
            p
            for p in NEEDED + (NEEDED_FOR_THREADS if thread else ())
            if not getattr(channel.permissions_for(interaction.guild.me), p)
        ]
        if missing:
            names = ", ".join(p.replace("_", " ").title() for p in missing)
            raise InvalidInput(f"I can't post in {channel.mention} yet: I need {names} there.")
        config = await self.service.configure(
            interaction.guild.id,
            channel.id,
            post_time=time,
            timezone=timezone,
            max_papers=max_papers,
            weekdays_only=weekdays_only,
            thread=thread,
            list_mode=list,
        )
        self.scheduler.upsert(config)
        status = await self.service.status(interaction.guild.id)
        await respond(interaction, embed=_render.digest_status(status), ephemeral=True)

    @setup.autocomplete("timezone")
    async def timezone_autocomplete(
        self, interaction: discord.Interaction[PaperBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=name, value=name) for name in timezone_choices(current)]

    @app_commands.command(name="show", description="Show this server's digest settings and last post")
    async def show(self, interaction: discord.Interaction[PaperBot]) -> None:
        assert interaction.guild_id is not None
        status = await self.service.status(interaction.guild_id)
        await interaction.response.send_message(embed=_render.digest_status(status), ephemeral=True)

    @app_commands.command(name="pause", description="Stop posting until resumed")
    async def pause(self, interaction: discord.Interaction[PaperBot]) -> None:
        assert interaction.guild_id is not None
        config = await self.service.pause(interaction.guild_id, f"Paused by {interaction.user}")
        self.scheduler.upsert(config)
        await respond(interaction, "The daily digest is paused. /digest resume restarts it.", ephemeral=True)

    @app_commands.command(name="resume", description="Post again at the set time")
    async def resume(self, interaction: discord.Interaction[PaperBot]) -> None:
        assert interaction.guild_id is not None
        config = await self.service.resume(interaction.guild_id)
        self.scheduler.upsert(config)
        status = await self.service.status(interaction.guild_id)
        when = f" Next post: {_render.stamp(status.next_post)}." if status.next_post else ""
        await respond(interaction, f"The daily digest is back on.{when}", ephemeral=True)

    @app_commands.command(name="preview", description="See privately exactly what the next post would be")
    async def preview(self, interaction: discord.Interaction[PaperBot]) -> None:
        assert interaction.guild_id is not None
        config = await self.service.require(interaction.guild_id)
        day, plan = await self.service.preview(config)
        if not plan.messages:
            await interaction.response.send_message(
                f"Nothing would be posted on {day:%A %d %B}.", ephemeral=True
            )
            return
        first, *rest = plan.messages
        await interaction.response.send_message(embeds=_render.message_embeds(first), ephemeral=True)
        for message in rest:
            await interaction.followup.send(embeds=_render.message_embeds(message), ephemeral=True)

    @app_commands.command(
        name="post-now", description="Post today's digest now (once: a later scheduled run skips it)"
    )
    async def post_now(self, interaction: discord.Interaction[PaperBot]) -> None:
        assert interaction.guild_id is not None
        config = await self.service.require(interaction.guild_id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        today = self.service.today(config)
        outcome = await self.service.post(config, today, self.poster)
        messages = {
            "posted": f"Posted today's digest in <#{config.channel_id}>.",
            "already": "Today's digest is already posted.",
            "skipped": "There is nothing to post today.",
            "failed": f"Posting failed and the digest is paused: {outcome.reason}",
            "elsewhere": "Another paperbot process is posting today's digest right now.",
        }
        if outcome.state == "failed":
            self.scheduler.remove(config.guild_id)
        await interaction.followup.send(messages.get(outcome.state, outcome.state), ephemeral=True)


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Digest(bot))
