"""/follow: members' keyword follows, and the DMs that tell them about new matching papers."""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.client import PaperBot
from bot.domain.alerts import alert_marker
from bot.domain.follows import MAX_KEYWORD_CHARS
from bot.domain.layout import plural, truncate
from bot.domain.schedule import timezone_choices
from bot.services.follows import AlertBatch
from cogs import _render
from cogs._poster import marked_parts, send_planned

log = logging.getLogger(__name__)

DMS_CLOSED = 50007  # "Cannot send messages to this user"
DM_HISTORY_SCAN = 20
UNREACHABLE_NOTICE = (
    "⚠️ I could not DM you your last alerts: your DMs seem closed to me. Allow direct messages from "
    "server members (Privacy Settings) and I will send what is waiting."
)


# Alerts go to members of servers the bot is in: a follow is made from a server.
@app_commands.guild_only()
class Follows(
    commands.GroupCog, group_name="follow", group_description="Get a DM when new papers match your keywords"
):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot
        self.service = bot.services.follows
        self._sending = asyncio.Lock()
        self.poll.change_interval(seconds=bot.settings.follows.poll_seconds)
        super().__init__()

    async def cog_load(self) -> None:
        if self.bot.settings.digest.scheduler:
            self.poll.start()

    async def cog_unload(self) -> None:
        self.poll.cancel()

    async def interaction_check(self, interaction: discord.Interaction[PaperBot]) -> bool:  # type: ignore[override]
        # guild_only() hides /follow in DMs; a client that sends it anyway is told, not half-served.
        if interaction.guild is None:
            raise app_commands.NoPrivateMessage()
        return True

    # ---- delivery (background) ---------------------------------------------------------------------

    @tasks.loop(seconds=30)
    async def poll(self) -> None:
        # Ingests from other processes (the CLI) queue alerts too: look for them regularly.
        try:
            await self.deliver_alerts()
        except Exception:
            log.exception("alert delivery failed; will try again")

    @poll.before_loop
    async def _wait_ready(self) -> None:
        await self.bot.wait_until_ready()

    @commands.Cog.listener()
    async def on_papers_ingested(self) -> None:
        await self.deliver_alerts()

    async def deliver_alerts(self) -> int:
        """Send every due batch: interrupted ones first (without repeating what arrived), then new ones."""
        sent = 0
        async with self._sending:
            for batch in await self.service.interrupted():
                sent += await self._deliver(batch, resuming=True)
            for user_id in await self.service.due_members():
                if not await self._shares_a_server(user_id):
                    continue
                claimed = await self.service.claim(user_id)
                if claimed is not None:
                    sent += await self._deliver(claimed, resuming=False)
                    await asyncio.sleep(self.bot.settings.follows.dm_interval_seconds)
        return sent

    async def _shares_a_server(self, user_id: int) -> bool:
        """Alerts only go to members of a server the bot is in; servers they left are forgotten."""
        for guild_id in await self.service.member_guilds(user_id):
            guild = self.bot.get_guild(guild_id)
            if guild is not None:
                try:
                    await guild.fetch_member(user_id)
                    return True
                except discord.NotFound:
                    pass
            if await self.service.left_guild(user_id, guild_id):
                log.info("member %s shares no server any more: alerts stopped", user_id)
                return False
        return False

    async def _deliver(self, batch: AlertBatch, *, resuming: bool) -> int:
        try:
            user = self.bot.get_user(batch.user_id) or await self.bot.fetch_user(batch.user_id)
            channel = user.dm_channel or await user.create_dm()
            done: dict[int, int] = {}
            if resuming:  # a crash may have come after a part went out: the DM channel knows
                marker = alert_marker(batch.batch_id)
                done = await marked_parts(channel, self.bot.user, marker, limit=DM_HISTORY_SCAN)
            for part, planned in enumerate(batch.messages, 1):
                if part not in done:
                    done[part] = (await send_planned(channel, planned)).id
        except discord.Forbidden as exc:
            closed = exc.code == DMS_CLOSED
            await self.service.undeliverable(batch, dms_closed=closed)
            log.info("alerts for %s not delivered (%s)", batch.user_id, "DMs closed" if closed else exc.text)
            return 0
        except discord.HTTPException:
            await self.service.undeliverable(batch, dms_closed=False)
            raise
        await self.service.delivered(batch, [done[p] for p in sorted(done)])
        return batch.paper_count

    # ---- commands ------------------------------------------------------------------------------

    async def _reply(self, interaction: discord.Interaction[PaperBot], text: str) -> None:
        """Personal data is always private; a pending 'DMs closed' notice rides along once."""
        if await self.service.take_unreachable_notice(interaction.user.id):
            text = f"{UNREACHABLE_NOTICE}\n\n{text}"
        await interaction.response.send_message(truncate(text, _render.CONTENT_LIMIT), ephemeral=True)

    @app_commands.command(
        name="add", description="Follow a keyword, phrase or small query; new matches come by DM"
    )
    @app_commands.describe(
        keyword='A word, a phrase, or e.g. diffusion AND video, "reward model" OR RLHF, pruning -lottery'
    )
    async def add(
        self,
        interaction: discord.Interaction[PaperBot],
        keyword: app_commands.Range[str, 1, MAX_KEYWORD_CHARS],
    ) -> None:
        added = await self.service.add(interaction.user.id, interaction.guild_id, keyword)
        text = f"Following “{_render.md(added.keyword)}”. New matching papers will come to you by DM."
        if added.recent_matches:
            text += f" It matches {plural(added.recent_matches, 'recent paper')}."
        elif added.suggestions:
            text += (
                " It matches no paper yet; did you mean "
                + ", ".join(f"“{s}”" for s in added.suggestions)
                + "?"
            )
        else:
            text += " It matches no recent paper yet."
        await self._reply(interaction, text)

    @app_commands.command(name="remove", description="Stop following a keyword")
    @app_commands.describe(keyword="One of your follows (start typing)")
    async def remove(
        self,
        interaction: discord.Interaction[PaperBot],
        keyword: app_commands.Range[str, 1, MAX_KEYWORD_CHARS],
    ) -> None:
        removed = await self.service.remove(interaction.user.id, keyword)
        await self._reply(interaction, f"You no longer follow “{_render.md(removed)}”.")

    @remove.autocomplete("keyword")
    async def remove_autocomplete(
        self, interaction: discord.Interaction[PaperBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=_render.choice_name(f.keyword), value=str(f.id))
            for f in await self.service.choices(interaction.user.id, current)
        ]

    @app_commands.command(name="list", description="Your follows and how many recent papers each matched")
    async def list_follows(self, interaction: discord.Interaction[PaperBot]) -> None:
        follows = await self.service.list_follows(interaction.user.id)
        member = await self.service.member(interaction.user.id)
        if not follows:
            await self._reply(interaction, "You follow nothing yet. Try /follow add keyword:diffusion")
            return
        lines = [f"• “{_render.md(f.keyword)}” — {f.recent_matches} recent" for f in follows]
        mode = member.mode if member else "instant"
        header = f"You follow {plural(len(follows), 'keyword')} ({mode} alerts"
        if member and member.paused_until:
            header += ", paused"
        await self._reply(interaction, header + "):\n" + "\n".join(lines))

    @app_commands.command(name="pause", description="Stop alerts for a while (or until you resume)")
    @app_commands.describe(days="For how many days (default: until /follow resume)")
    async def pause(
        self, interaction: discord.Interaction[PaperBot], days: app_commands.Range[int, 1, 365] | None = None
    ) -> None:
        until = await self.service.pause(interaction.user.id, days)
        when = f"until {discord.utils.format_dt(until, 'f')}" if until else "until you /follow resume"
        await self._reply(
            interaction, f"Alerts paused {when}. Papers published meanwhile are not sent later."
        )

    @app_commands.command(name="resume", description="Get alerts again")
    async def resume(self, interaction: discord.Interaction[PaperBot]) -> None:
        await self.service.resume(interaction.user.id)
        await self._reply(interaction, "Alerts are on again.")

    @app_commands.command(name="mode", description="Get each alert at once, or one summary a day")
    @app_commands.describe(
        mode="instant: as papers arrive; daily: one DM a day",
        time="For daily: your local time, HH:MM (default 09:00)",
        timezone="For daily: your IANA time zone (default UTC)",
    )
    async def mode(
        self,
        interaction: discord.Interaction[PaperBot],
        mode: Literal["instant", "daily"],
        time: app_commands.Range[str, 3, 5] | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
    ) -> None:
        member = await self.service.set_mode(interaction.user.id, mode, at=time, timezone=timezone)
        if member.mode == "daily":
            text = f"You'll get one DM a day at {member.daily_time:%H:%M} ({member.timezone})."
        else:
            text = "You'll get alerts as new papers arrive."
        await self._reply(interaction, text)

    @mode.autocomplete("timezone")
    async def mode_timezone(
        self, interaction: discord.Interaction[PaperBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=name, value=name) for name in timezone_choices(current)]


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Follows(bot))
