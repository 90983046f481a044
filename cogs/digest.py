"""/digest: a server's papers posts, one digest per channel (daily or weekly, optionally on a topic).
Admins only (Manage Server)."""

from __future__ import annotations

import logging
from datetime import timedelta

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import PaperBot, respond
from bot.domain.schedule import WEEKDAYS, DigestConfig, timezone_choices
from bot.errors import InvalidInput
from bot.repeating_failure import RepeatingFailures
from bot.scheduler import DigestScheduler
from bot.services.digest import MAX_PAPERS_LIMIT, PostOutcome
from cogs import _render
from cogs._poster import DiscordMessenger, DiscordPoster

log = logging.getLogger(__name__)

NEEDED = ("view_channel", "send_messages", "embed_links", "read_message_history")
NEEDED_FOR_THREADS = ("create_public_threads", "send_messages_in_threads")


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Digest(commands.GroupCog, group_name="digest", group_description="This server's papers posts"):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot
        self.service = bot.services.digests
        self.poster = DiscordPoster(bot)
        self.messenger = DiscordMessenger(bot)
        self.scheduler = DigestScheduler(
            post_due=self.post_due, tick=timedelta(seconds=bot.settings.digest.tick_seconds)
        )
        self._caught_up = False
        self._failing = RepeatingFailures(log)
        super().__init__()

    async def cog_load(self) -> None:
        if self.bot.settings.digest.scheduler:
            # Only this process's servers get timers: another process posts the rest.
            self.scheduler.start(await self.service.owned_configs())

    async def cog_unload(self) -> None:
        await self.scheduler.stop()

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
            log.info(
                "digest for guild %s channel %s on %s: %s",
                outcome.guild_id,
                outcome.channel_id,
                outcome.post_day,
                outcome.state,
            )
            if outcome.state == "failed":
                self.scheduler.remove(outcome.guild_id, outcome.channel_id)
        if self.service.store_failing:  # said once by the tick; the notices would fail the same way
            return outcomes
        # Periods not posted (downtime, a channel lost): their admins are told, once, grouped.
        try:
            await self.bot.services.digest_notices.deliver(self.messenger, self.poster, self._server_name)
        except Exception as exc:  # the store down: one line a spell, not apscheduler's traceback a tick
            self._failing.failed("telling admins of missed digest days", exc)
            return outcomes
        self._failing.succeeded("telling admins of missed digest days")
        self.bot.health.ticked()  # only a pass that finished counts: a stuck one goes stale
        return outcomes

    def _server_name(self, guild_id: int) -> str | None:
        """A server's name for a notice listing several servers' digests (None: not in the cache)."""
        guild = self.bot.get_guild(guild_id)
        return guild.name if guild is not None else None

    # ---- commands ------------------------------------------------------------------------------

    @app_commands.command(
        name="setup",
        description="Post papers in a channel at a local time: daily or weekly, all or on a topic",
        extras={"example": "/digest setup channel:#diffusion time:09:00 timezone:UTC topic:diffusion -video"},
    )
    @app_commands.describe(
        channel="Where the digest goes (each channel has its own digest)",
        time="Local time of day, 24-hour HH:MM (e.g. 09:00)",
        timezone="IANA time zone, e.g. Europe/Berlin (start typing to search)",
        max_papers=f"How many papers at most (1-{MAX_PAPERS_LIMIT}; default 10, or as it was)",
        weekdays_only="Skip Saturdays and Sundays (daily digests; default: no, or as it was)",
        thread="Open a discussion thread on each post (default: no, or as it was)",
        list="complete: yesterday's whole list (default); so-far: today's list as it stands",
        topic='Only papers matching this, as in /follow add ("diffusion -video"); * for every paper',
        cadence="daily (default, or as it was) or weekly: the week's most upvoted papers",
        weekday="The day a weekly digest posts (default: Monday, or as it was)",
        votes="A 👍 menu under each post counting this server's votes (default: on)",
    )
    @app_commands.choices(
        list=[
            app_commands.Choice(name="complete: the whole of yesterday's list", value="complete"),
            app_commands.Choice(name="so-far: today's list as it stands, the rest next time", value="so-far"),
        ],
        cadence=[
            app_commands.Choice(name="daily", value="daily"),
            app_commands.Choice(name="weekly: the week's top papers by upvotes", value="weekly"),
        ],
        weekday=[app_commands.Choice(name=day, value=day) for day in WEEKDAYS],
    )
    async def setup(
        self,
        interaction: discord.Interaction[PaperBot],
        channel: discord.TextChannel,
        time: app_commands.Range[str, 3, 5],
        timezone: app_commands.Range[str, 1, 64],
        max_papers: app_commands.Range[int, 1, MAX_PAPERS_LIMIT] | None = None,
        weekdays_only: bool | None = None,
        thread: bool | None = None,
        list: str | None = None,
        topic: app_commands.Range[str, 1, 100] | None = None,
        cadence: str | None = None,
        weekday: str | None = None,
        votes: bool | None = None,
    ) -> None:
        assert interaction.guild is not None
        # Options left out keep the channel's digest's values (the service decides): so does the check.
        previous = await self.service.config(interaction.guild.id, channel.id)
        threads = thread if thread is not None else bool(previous and previous.thread)
        missing = [
            p
            for p in NEEDED + (NEEDED_FOR_THREADS if threads else ())
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
            topic=topic,
            cadence=cadence,
            weekday=weekday,
            admin_id=interaction.user.id,
        )
        self.scheduler.upsert(config)
        if votes is not None:
            await self.bot.services.votes.set_enabled(interaction.guild.id, votes)
        status = await self.service.status(config)
        embed = _render.digest_status(status)
        embed.add_field(name="Votes", value=await self._votes_text(interaction.guild.id))
        await respond(interaction, embed=embed, ephemeral=True)

    async def _votes_text(self, guild_id: int) -> str:
        if await self.bot.services.votes.enabled(guild_id):
            return "👍 menu under each post (`/papers top scope:server` ranks them)"
        return "off"

    @setup.autocomplete("timezone")
    async def timezone_autocomplete(
        self, interaction: discord.Interaction[PaperBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=name, value=name) for name in timezone_choices(current)]

    async def digest_autocomplete(
        self, interaction: discord.Interaction[PaperBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """This server's digests, by channel (also one whose channel was deleted)."""
        if interaction.guild is None:
            return []
        typed = current.strip().lower().lstrip("#")
        choices = []
        for config in await self.service.configs(interaction.guild.id):
            found = interaction.guild.get_channel(config.channel_id)
            name = _render.digest_choice(config, found.name if found else None)
            if typed in name.lower():
                choices.append(app_commands.Choice(name=name, value=str(config.channel_id)))
        return choices[:25]

    async def _chosen(self, interaction: discord.Interaction[PaperBot], channel: str | None) -> DigestConfig:
        """The digest a command is about: the one in ``channel``, or the server's only one."""
        assert interaction.guild_id is not None
        return await self.service.require(interaction.guild_id, _channel_id(channel, interaction.guild))

    @app_commands.command(name="show", description="Show this server's digests: settings and last posts")
    async def show(self, interaction: discord.Interaction[PaperBot]) -> None:
        assert interaction.guild_id is not None
        statuses = await self.service.statuses(interaction.guild_id)
        if not statuses:
            raise InvalidInput("This server has no digest yet: set one up with /digest setup.")
        votes = await self._votes_text(interaction.guild_id)  # the server's, under every digest
        embeds = [_render.digest_status(status).add_field(name="Votes", value=votes) for status in statuses]
        first, *rest = _render.embed_pages(embeds)
        await interaction.response.send_message(embeds=first, ephemeral=True)
        for page in rest:
            await interaction.followup.send(embeds=page, ephemeral=True)

    @app_commands.command(
        name="remove",
        description="Stop a channel's digest",
        extras={"example": "/digest remove channel:#diffusion"},
    )
    @app_commands.describe(channel="The digest to stop (start typing to pick)")
    @app_commands.autocomplete(channel=digest_autocomplete)
    async def remove(
        self, interaction: discord.Interaction[PaperBot], channel: app_commands.Range[str, 1, 100]
    ) -> None:
        assert interaction.guild_id is not None
        config = await self.service.remove(
            interaction.guild_id, _require_channel_id(channel, interaction.guild)
        )
        self.scheduler.remove(config.guild_id, config.channel_id)
        await respond(interaction, f"The digest of <#{config.channel_id}> is removed.", ephemeral=True)

    @app_commands.command(name="pause", description="Stop posting until resumed")
    @app_commands.describe(channel="Which digest (needed when the server has several)")
    @app_commands.autocomplete(channel=digest_autocomplete)
    async def pause(
        self,
        interaction: discord.Interaction[PaperBot],
        channel: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        chosen = await self._chosen(interaction, channel)
        config = await self.service.pause(
            interaction.guild_id, chosen.channel_id, f"Paused by {interaction.user}"
        )
        self.scheduler.upsert(config)
        await respond(
            interaction,
            f"The digest of <#{config.channel_id}> is paused. /digest resume restarts it.",
            ephemeral=True,
        )

    @app_commands.command(name="resume", description="Post again at the set time")
    @app_commands.describe(channel="Which digest (needed when the server has several)")
    @app_commands.autocomplete(channel=digest_autocomplete)
    async def resume(
        self,
        interaction: discord.Interaction[PaperBot],
        channel: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        chosen = await self._chosen(interaction, channel)
        config = await self.service.resume(interaction.guild_id, chosen.channel_id)
        self.scheduler.upsert(config)
        status = await self.service.status(config)
        now = f" Posting the one for {status.posting_now:%a %d %b} now." if status.posting_now else ""
        when = now + (f" Next post: {_render.stamp(status.next_post)}." if status.next_post else "")
        await respond(interaction, f"The digest of <#{config.channel_id}> is back on.{when}", ephemeral=True)

    @app_commands.command(name="preview", description="See privately exactly what the next post would be")
    @app_commands.describe(channel="Which digest (needed when the server has several)")
    @app_commands.autocomplete(channel=digest_autocomplete)
    async def preview(
        self,
        interaction: discord.Interaction[PaperBot],
        channel: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        config = await self._chosen(interaction, channel)
        preview = await self.service.preview(config)
        plan = preview.plan
        period = "This week's" if config.cadence == "weekly" else "Today's"
        if plan is None:
            status = await self.service.status(config)
            done = "already posted" if preview.done and preview.done.state != "failed" else "failed"
            when = f" Next post: {_render.stamp(status.next_post)}." if status.next_post else ""
            await interaction.response.send_message(
                f"{period} digest in <#{config.channel_id}> is {done}: post-now would not post it "
                f"again.{when}",
                ephemeral=True,
            )
            return
        if not plan.messages:
            await interaction.response.send_message(
                f"Nothing would be posted for {preview.post_day:%A %d %B}.", ephemeral=True
            )
            return
        first, *rest = plan.messages
        await interaction.response.send_message(embeds=_render.message_embeds(first), ephemeral=True)
        for message in rest:
            await interaction.followup.send(embeds=_render.message_embeds(message), ephemeral=True)

    @app_commands.command(
        name="post-now", description="Post today's digest now (once: a later scheduled run skips it)"
    )
    @app_commands.describe(channel="Which digest (needed when the server has several)")
    @app_commands.autocomplete(channel=digest_autocomplete)
    async def post_now(
        self,
        interaction: discord.Interaction[PaperBot],
        channel: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        config = await self._chosen(interaction, channel)
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self.service.post_now(config, self.poster)
        period = "This week's" if config.cadence == "weekly" else "Today's"
        messages = {
            "posted": f"Posted {period.lower()} digest in <#{config.channel_id}>.",
            "already": f"{period} digest is already posted in <#{config.channel_id}>.",
            "skipped": "There is nothing to post.",
            "failed": f"Posting failed and the digest is paused: {outcome.reason}",
            "elsewhere": f"Another paperbot process is posting {period.lower()} digest right now.",
        }
        if outcome.state == "failed":
            self.scheduler.remove(config.guild_id, config.channel_id)
        await interaction.followup.send(messages.get(outcome.state, outcome.state), ephemeral=True)


def _channel_id(text: str | None, guild: discord.Guild | None) -> int | None:
    """A channel picked from autocomplete (its id), typed as a mention or as ``#name``, or not given."""
    if text is None or not text.strip():
        return None
    return _require_channel_id(text, guild)


def _require_channel_id(text: str, guild: discord.Guild | None) -> int:
    digits = text.strip().removeprefix("<#").removesuffix(">")
    if digits.isdigit() and len(digits) <= 20:
        return int(digits)
    # Typed without waiting for the suggestions (or in the sandbox): "#papers" or "papers".
    name = text.strip().removeprefix("#").casefold()
    named = [c for c in guild.text_channels if c.name.casefold() == name] if guild else []
    if len(named) != 1:
        raise InvalidInput("Pick the digest's channel from the list (start typing its name).")
    return named[0].id


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Digest(bot))
