"""/library: a member's saved papers, read marks, tags, notes and exports. Always private."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Sequence
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.client import PaperBot, respond
from bot.domain.digest import paper_ref
from bot.domain.layout import byline, escape_within, plural, truncate
from bot.domain.library import MAX_NOTE_CHARS, LibraryEntry, ReadFilter, parse_tag
from bot.domain.picks import picks_text
from bot.domain.uploads import UPLOAD_BYTES, mebibytes
from bot.errors import InvalidInput
from bot.exports import ExportFormat
from bot.repeating_failure import RepeatingFailures
from bot.services.library import LibraryPage, Pick
from cogs import _render
from cogs._poster import DiscordMessenger
from cogs._views import (
    NOT_YOURS,
    SaveFromList,
    SavePaper,
    component_context,
    components,
    save_menu,
    saved_text,
    turn_button,
    with_view,
)

log = logging.getLogger(__name__)
PAGE_SIZE = 10
PaperOption = app_commands.Range[str, 1, 300]


def library_embed(page: LibraryPage, status: ReadFilter, tag: str | None) -> discord.Embed:
    what = {"all": "Your library", "unread": "Unread in your library", "read": "Read in your library"}
    title = what[status] + (f" · #{tag}" if tag else "")
    if not page.entries:
        description = "Nothing here yet. Save papers with the 🔖 Save button or /library save."
    else:
        first = (page.page - 1) * PAGE_SIZE + 1
        description = "\n\n".join(_entry_line(n, e) for n, e in enumerate(page.entries, first))
    embed = discord.Embed(title=title, description=description, colour=_render.ACCENT)
    embed.set_footer(
        text=f"Page {page.page}/{page.page_count} · {plural(page.total, 'paper')} · ✓ read, ○ unread"
    )
    return _render.fit(embed)


def picks_embed(picks: Sequence[Pick]) -> discord.Embed:
    embed = discord.Embed(
        title="🧭 Picks for you",
        description=picks_text([(pick.paper, pick.like) for pick in picks])
        or "No new papers this week are close to what you saved. Save more papers to get picks.",
        colour=_render.ACCENT,
    )
    embed.set_footer(text="New papers of the last 7 days, closest to what you saved")
    return _render.fit(embed)


def _entry_line(number: int, entry: LibraryEntry) -> str:
    mark = "✓" if entry.read else "○"
    heading = f"`{number}.` {mark} **{_render.link(entry.paper.title, entry.paper.url, 180)}**"
    meta = byline(
        " ".join(f"#{tag}" for tag in entry.tags),
        f"saved {_render.stamp(entry.saved_at, 'R')}",
    )
    lines = [heading, meta]
    if entry.note:
        lines.append(f"> {escape_within(entry.note, 200)}")
    return "\n".join(lines)


class LibraryTurn(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"library:(?P<owner>[0-9]+):(?P<status>all|unread|read):(?P<page>[0-9]+):(?P<way>[pn]):(?P<tag>.*)",
):
    """Previous or Next under /library list. The custom id carries the whole list (whose library,
    which filter and tag, the page to show: at most 20 + 6 + 32 + a page number, within Discord's
    100), and the page is read from the store at each press. So nothing waits in memory per
    message, the buttons keep working after three minutes and after a restart, and the read marks
    shown are those of the moment (kept pages, as search answers have, would show them as they
    were when the list was asked)."""

    def __init__(
        self, owner_id: int, status: ReadFilter, tag: str | None, page: int, way: str, *, disabled: bool
    ) -> None:
        custom_id = f"library:{owner_id}:{status.value}:{page}:{way}:{tag or ''}"
        super().__init__(turn_button(way, custom_id, disabled=disabled))
        self.owner_id, self.status, self.tag, self.page = owner_id, status, tag, page
        self.label = str(self.item.label)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> LibraryTurn:
        status, tag = ReadFilter(match["status"]), match["tag"] or None
        return cls(int(match["owner"]), status, tag, int(match["page"]), match["way"], disabled=False)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        from bot.client import PaperTree

        component_context(interaction, "library list", self.label)
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return
        try:
            page = await library_page(interaction.client, self.owner_id, self.status, self.tag, self.page)
        except Exception as error:  # dynamic items bypass views' error handlers: answer like a command
            await PaperTree.handle(interaction, error)
            return
        await interaction.response.edit_message(**library_answer(page, self.owner_id, self.status, self.tag))


async def library_page(
    client: PaperBot, owner_id: int, status: ReadFilter, tag: str | None, page: int
) -> LibraryPage:
    """One page of the member's library as it is now (a page past the end shows the last one)."""
    return await client.services.library.page(owner_id, status, tag, page=page, page_size=PAGE_SIZE)


def library_answer(page: LibraryPage, owner_id: int, status: ReadFilter, tag: str | None) -> dict[str, Any]:
    """A page of /library list as message fields: its embed and, with more than one page,
    Previous/Next."""
    fields: dict[str, Any] = {"embed": library_embed(page, status, tag)}
    if page.page_count == 1:  # no buttons (after a turn: the list shrank to one page meanwhile)
        return fields | {"view": components()}
    return fields | {
        "view": components(
            LibraryTurn(owner_id, status, tag, page.page - 1, "p", disabled=page.page <= 1),
            LibraryTurn(owner_id, status, tag, page.page + 1, "n", disabled=page.page >= page.page_count),
        )
    }


@app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
class Library(
    commands.GroupCog, group_name="library", group_description="Your saved papers (only you see them)"
):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot
        self.service = bot.services.library
        self._failing = RepeatingFailures(log)
        super().__init__()

    async def cog_load(self) -> None:
        # Save buttons and menus live on messages of every kind, old ones included.
        self.bot.add_dynamic_items(SavePaper, SaveFromList, LibraryTurn)
        if self.bot.settings.digest.scheduler:
            self.weekly.start()

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(SavePaper, SaveFromList, LibraryTurn)
        self.weekly.cancel()

    # ---- weekly picks DMs (background) ------------------------------------------------------------

    # Every 10 minutes: a failed DM's first retry is due 10 minutes later (weekly_picks.FIRST_RETRY).
    @tasks.loop(minutes=10)
    async def weekly(self) -> None:
        try:
            await self.send_weekly_picks()
        except Exception as exc:
            self._failing.failed("weekly picks", exc)
        else:
            self._failing.succeeded("weekly picks")

    @weekly.before_loop
    async def _wait_ready(self) -> None:
        await self.bot.wait_until_ready()

    async def send_weekly_picks(self) -> int:
        """One DM of picks per member per week (UTC) for those who turned it on, each exactly once
        (see WeeklyPicks); a failed one is retried on a later run. Returns DMs delivered."""
        return await self.bot.services.weekly_picks.deliver(DiscordMessenger(self.bot))

    async def _reply(self, interaction: discord.Interaction[PaperBot], text: str) -> None:
        # respond, not response.send_message: a save that waited for a busy writer was deferred.
        await respond(interaction, truncate(text, _render.CONTENT_LIMIT), ephemeral=True)

    async def _own_papers(
        self, interaction: discord.Interaction[PaperBot], current: str
    ) -> list[app_commands.Choice[str]]:
        choices = await self.service.choices(interaction.user.id, current[:100], limit=_render.MAX_CHOICES)
        return [
            app_commands.Choice(name=_render.choice_name(title), value=paper_id)
            for paper_id, title in choices
            if len(paper_id) <= _render.CHOICE_VALUE
        ]

    @app_commands.command(name="save", description="Save a paper to your library")
    @app_commands.describe(paper="Start typing a title (or paste an arXiv id or link)")
    async def save(self, interaction: discord.Interaction[PaperBot], paper: PaperOption) -> None:
        saved = await self.service.save(interaction.user.id, paper, guild_id=interaction.guild_id)
        await self._reply(interaction, saved_text(saved.title, saved.created))

    @save.autocomplete("paper")
    async def save_autocomplete(
        self, interaction: discord.Interaction[PaperBot], current: str
    ) -> list[app_commands.Choice[str]]:
        suggestions = await self.bot.services.papers.search.suggest(current[:200], limit=_render.MAX_CHOICES)
        return _render.title_choices(suggestions)

    @app_commands.command(name="list", description="Your saved papers, newest first")
    @app_commands.describe(status="unread, read or all (default all)", tag="Only papers with this tag")
    async def list_papers(
        self,
        interaction: discord.Interaction[PaperBot],
        status: Literal["unread", "read", "all"] = "all",
        tag: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        chosen = ReadFilter(status)
        folded = parse_tag(tag) if tag else None
        first = await library_page(self.bot, interaction.user.id, chosen, folded, 1)
        answer = library_answer(first, interaction.user.id, chosen, folded)
        await interaction.response.send_message(**answer, ephemeral=True)

    @app_commands.command(name="remove", description="Remove a paper from your library")
    @app_commands.describe(paper="One of your saved papers (start typing)")
    async def remove(self, interaction: discord.Interaction[PaperBot], paper: PaperOption) -> None:
        title = await self.service.remove(interaction.user.id, paper)
        await self._reply(interaction, f"Removed “{escape_within(title, 200)}” from your library.")

    @app_commands.command(name="read", description="Mark a saved paper as read")
    @app_commands.describe(paper="One of your saved papers (start typing)")
    async def read(self, interaction: discord.Interaction[PaperBot], paper: PaperOption) -> None:
        title = await self.service.mark(interaction.user.id, paper, read=True)
        await self._reply(interaction, f"✓ Marked “{escape_within(title, 200)}” as read.")

    @app_commands.command(name="unread", description="Mark a saved paper as unread")
    @app_commands.describe(paper="One of your saved papers (start typing)")
    async def unread(self, interaction: discord.Interaction[PaperBot], paper: PaperOption) -> None:
        title = await self.service.mark(interaction.user.id, paper, read=False)
        await self._reply(interaction, f"○ Marked “{escape_within(title, 200)}” as unread.")

    @app_commands.command(name="tag", description="Set a saved paper's tags (empty-ish text clears them)")
    @app_commands.describe(paper="One of your saved papers", tags="Tags separated by commas or spaces")
    async def tag(
        self,
        interaction: discord.Interaction[PaperBot],
        paper: PaperOption,
        tags: app_commands.Range[str, 1, 400],
    ) -> None:
        title, stored = await self.service.tag(interaction.user.id, paper, tags)
        shown = " ".join(f"#{t}" for t in stored) or "no tags"
        await self._reply(interaction, f"“{escape_within(title, 200)}”: {_render.md(shown)}.")

    @app_commands.command(name="note", description="A short private note on a saved paper")
    @app_commands.describe(paper="One of your saved papers", text=f"Up to {MAX_NOTE_CHARS} characters")
    async def note(
        self,
        interaction: discord.Interaction[PaperBot],
        paper: PaperOption,
        text: app_commands.Range[str, 1, MAX_NOTE_CHARS],
    ) -> None:
        title, stored = await self.service.note(interaction.user.id, paper, text)
        done = "Note saved" if stored else "Note cleared"
        await self._reply(interaction, f"{done} on “{escape_within(title, 200)}”.")

    @remove.autocomplete("paper")
    @read.autocomplete("paper")
    @unread.autocomplete("paper")
    @tag.autocomplete("paper")
    @note.autocomplete("paper")
    async def own_paper_autocomplete(
        self, interaction: discord.Interaction[PaperBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._own_papers(interaction, current)

    @app_commands.command(name="picks", description="New papers of the last 7 days like the ones you saved")
    async def picks(self, interaction: discord.Interaction[PaperBot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # a query per saved paper
        picks = await self.service.picks(interaction.user.id)
        menu = save_menu([paper_ref(pick.paper) for pick in picks])
        await interaction.followup.send(embed=picks_embed(picks), ephemeral=True, **with_view(menu))

    @app_commands.command(name="digest", description="A weekly DM of picks for you: on or off")
    @app_commands.describe(state="on: one DM a week with new papers like your saved ones; off: none")
    async def digest(self, interaction: discord.Interaction[PaperBot], state: Literal["on", "off"]) -> None:
        reachable = await self.service.set_weekly(
            interaction.user.id, state == "on", guild_id=interaction.guild_id
        )
        if state == "on" and reachable:
            text = "You'll get a DM once a week with new papers like the ones you saved."
        elif state == "on":
            text = (
                "Weekly picks are on, but the bot can only DM members of a server it is in: "
                "run this command in one of them and they'll start."
            )
        else:
            text = "Weekly picks are off."
        await self._reply(interaction, text)

    @app_commands.command(
        name="export",
        description="Your library as a file for a reference manager "
        f"(up to {UPLOAD_BYTES // 2**20} MiB, Discord's limit)",
    )
    @app_commands.describe(
        format="bibtex (LaTeX), ris (Zotero, EndNote), csv or markdown", tag="Only this tag"
    )
    async def export(
        self,
        interaction: discord.Interaction[PaperBot],
        format: Literal["bibtex", "ris", "csv", "markdown"],
        tag: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        # A full library takes seconds to read and write out, longer than Discord's 3 s to answer.
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.service.export(interaction.user.id, ExportFormat(format), tag)
        # What Discord accepts here: UPLOAD_BYTES for a bot, more in a boosted server.
        limit = interaction.filesize_limit
        if len(result.data) > limit:
            raise InvalidInput(
                f"That export is {mebibytes(len(result.data))}, over Discord's {mebibytes(limit)} upload "
                "limit: export one tag at a time (the tag option)."
            )
        file = discord.File(io.BytesIO(result.data), filename=result.filename)
        await interaction.followup.send(
            f"Your library: {plural(result.count, 'paper')} as {format}.", file=file, ephemeral=True
        )


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Library(bot))
