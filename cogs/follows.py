"""/follow: members' keyword follows, and the DMs that tell them about new matching papers."""

from __future__ import annotations

import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.client import PaperBot, respond
from bot.domain.follows import MAX_KEYWORD_CHARS
from bot.domain.layout import plural, text_pages, truncate
from bot.domain.people import MAX_NAME_CHARS, PersonKind
from bot.domain.schedule import timezone_choices
from bot.repeating_failure import RepeatingFailures
from bot.services.follows import chosen_follow
from cogs import _render
from cogs._poster import DiscordMessenger
from cogs._views import paged

log = logging.getLogger(__name__)

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
        self.messenger = DiscordMessenger(bot)
        self.poll.change_interval(seconds=bot.settings.follows.poll_seconds)
        self._failing = RepeatingFailures(log)
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
        except Exception as exc:
            self._failing.failed("alert delivery", exc)
        else:
            self._failing.succeeded("alert delivery")

    @poll.before_loop
    async def _wait_ready(self) -> None:
        await self.bot.wait_until_ready()

    @commands.Cog.listener()
    async def on_papers_ingested(self) -> None:
        await self.deliver_alerts()

    async def deliver_alerts(self) -> int:
        """Send every due alert batch (the service decides what and resumes what was interrupted)."""
        return await self.bot.services.alerts.deliver(self.messenger)

    # ---- commands ------------------------------------------------------------------------------

    async def _reply(self, interaction: discord.Interaction[PaperBot], text: str) -> None:
        """Personal data is always private; a pending 'DMs closed' notice rides along once."""
        if await self.service.take_unreachable_notice(interaction.user.id):
            text = f"{UNREACHABLE_NOTICE}\n\n{text}"
        await respond(interaction, truncate(text, _render.CONTENT_LIMIT), ephemeral=True)

    @app_commands.command(
        name="add",
        description="Follow a keyword, phrase or small query; new matches come by DM",
        extras={"example": '/follow add keyword:"reward model" OR RLHF'},
    )
    @app_commands.describe(
        keyword='A word, a phrase, or e.g. diffusion AND video, "reward model" OR RLHF, pruning -lottery',
        code="yes: only papers with code (you hear about a paper when its code is linked)",
    )
    async def add(
        self,
        interaction: discord.Interaction[PaperBot],
        keyword: app_commands.Range[str, 1, MAX_KEYWORD_CHARS],
        code: Literal["yes", "no"] = "no",
    ) -> None:
        code_only = code == "yes"
        added = await self.service.add(
            interaction.user.id, interaction.guild_id, keyword, code_only=code_only
        )
        text = f"Following “{_render.md(added.keyword)}”. New matching papers will come to you by DM."
        if code_only:
            text = (
                f"Following “{_render.md(added.keyword)}”, with code: a matching paper comes to you by DM "
                "once its code is linked (at once if it already is)."
            )
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

    @app_commands.command(
        name="author",
        description="Follow an author: papers by them come by DM (claimed papers by their HF account)",
        extras={"example": "/follow author name:Yann LeCun"},
    )
    @app_commands.describe(name="Start typing: authors of stored papers (@account: they claimed papers)")
    async def author(
        self, interaction: discord.Interaction[PaperBot], name: app_commands.Range[str, 2, MAX_NAME_CHARS]
    ) -> None:
        await self._add_person(interaction, PersonKind.AUTHOR, name)

    @app_commands.command(
        name="org",
        description="Follow an organisation or lab: its papers come by DM",
        extras={"example": "/follow org name:NVIDIA"},
    )
    @app_commands.describe(name="Start typing: organisations of stored papers")
    async def org(
        self, interaction: discord.Interaction[PaperBot], name: app_commands.Range[str, 1, MAX_NAME_CHARS]
    ) -> None:
        await self._add_person(interaction, PersonKind.ORG, name)

    @author.autocomplete("name")
    async def author_autocomplete(
        self, interaction: discord.Interaction[PaperBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._people_choices(PersonKind.AUTHOR, current)

    @org.autocomplete("name")
    async def org_autocomplete(
        self, interaction: discord.Interaction[PaperBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._people_choices(PersonKind.ORG, current)

    async def _people_choices(self, kind: PersonKind, current: str) -> list[app_commands.Choice[str]]:
        choices = []
        for person in await self.service.known_people(kind, current[:MAX_NAME_CHARS]):
            value = f"{person.name} (@{person.hf_id})" if person.hf_id else person.name
            if len(value) <= _render.CHOICE_VALUE:
                label = f"{value} · {plural(person.papers, 'paper')}"
                choices.append(app_commands.Choice(name=_render.choice_name(label), value=value))
        return choices[: _render.MAX_CHOICES]

    async def _add_person(
        self, interaction: discord.Interaction[PaperBot], kind: PersonKind, name: str
    ) -> None:
        added = await self.service.add_person(interaction.user.id, interaction.guild_id, kind, name)
        text = f"Following {_render.md(added.keyword)}. Their new papers will come to you by DM."
        if added.recent_matches:
            text += f" {plural(added.recent_matches, 'recent paper')} matched."
        await self._reply(interaction, text)

    @app_commands.command(
        name="remove",
        description="Stop following a keyword",
        extras={"example": "/follow remove keyword:RLHF"},
    )
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
            app_commands.Choice(name=_render.choice_name(label), value=chosen_follow(f.id))
            for f, label in await self.service.choices(interaction.user.id, current)
        ]

    @app_commands.command(name="list", description="Your follows and how many recent papers each matched")
    async def list_follows(self, interaction: discord.Interaction[PaperBot]) -> None:
        follows = await self.service.list_follows(interaction.user.id)
        member = await self.service.member(interaction.user.id)
        if not follows:
            await self._reply(interaction, "You follow nothing yet. Try /follow add keyword:diffusion")
            return
        lines = [
            f"• {_render.md(f.keyword)} — {f.recent_matches} recent"
            if f.kind != "keyword"
            else f"• “{_render.md(f.keyword)}”{' (with code)' * f.code_only} — {f.recent_matches} recent"
            for f in follows
        ]
        mode = member.mode if member else "instant"
        authors = sum(f.kind == PersonKind.AUTHOR for f in follows)
        orgs = sum(f.kind == PersonKind.ORG for f in follows)
        counts = [
            plural(len(follows) - authors - orgs, "keyword"),
            plural(authors, "author"),
            plural(orgs, "organisation"),
        ]
        shown = ", ".join(c for c in counts if not c.startswith("0 ")) or counts[0]
        header = f"You follow {shown} ({mode} alerts"
        if member and member.paused_until:
            header += ", paused"
        if await self.service.take_unreachable_notice(interaction.user.id):
            header = f"{UNREACHABLE_NOTICE}\n\n{header}"
        # Long keywords do not fit one message: page them rather than cut the list.
        texts = text_pages(header + "):", lines, limit=_render.CONTENT_LIMIT)
        if len(texts) == 1:
            await respond(interaction, texts[0], ephemeral=True)
            return
        await respond(interaction, **paged(self.bot, interaction.user.id, texts), ephemeral=True)

    @app_commands.command(
        name="pause",
        description="Stop alerts for a while (or until you resume)",
        extras={"example": "/follow pause days:7"},
    )
    @app_commands.describe(days="For how many days (default: until /follow resume)")
    async def pause(
        self, interaction: discord.Interaction[PaperBot], days: app_commands.Range[int, 1, 365] | None = None
    ) -> None:
        until = await self.service.pause(interaction.user.id, days)
        when = f"until {discord.utils.format_dt(until, 'f')}" if until else "until you /follow resume"
        await self._reply(
            interaction,
            f"Alerts paused {when}. Matches not sent yet (an alert being sent stops) and papers "
            "published meanwhile are not sent later; "
            "news of papers you saved (a new version, code released) waits until you resume.",
        )

    @app_commands.command(name="resume", description="Get alerts again")
    async def resume(self, interaction: discord.Interaction[PaperBot]) -> None:
        await self.service.resume(interaction.user.id)
        await self._reply(interaction, "Alerts are on again.")

    @app_commands.command(
        name="mode",
        description="Get each alert at once, or one summary a day",
        extras={"example": "/follow mode mode:daily time:08:30 timezone:Europe/Paris"},
    )
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
