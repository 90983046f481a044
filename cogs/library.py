"""/library: a member's saved papers, read marks, tags, notes and exports. Always private."""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.client import PaperBot, respond
from bot.domain.digest import paper_ref
from bot.domain.layout import byline, plural, truncate
from bot.domain.library import MAX_NOTE_CHARS, LibraryEntry, ReadFilter, parse_tag
from bot.domain.picks import picks_text
from bot.errors import InvalidInput
from bot.exports import ExportFormat
from bot.services.library import LibraryPage, Pick
from cogs import _render
from cogs._poster import DiscordMessenger
from cogs._views import OwnedView, SaveFromList, SavePaper, save_menu, saved_text, with_view

log = logging.getLogger(__name__)
PAGE_SIZE = 10
MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # within Discord's smallest upload limit for bots
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
        lines.append(f"> {_render.md(truncate(entry.note, 200))}")
    return "\n".join(lines)


PageLoader = Callable[[int], Awaitable[LibraryPage]]


class LibraryPages(OwnedView):
    """Previous/Next through the member's library, one page read from the store at a time."""

    def __init__(
        self,
        owner_id: int,
        first: LibraryPage,
        load: PageLoader,
        render: Callable[[LibraryPage], discord.Embed],
    ) -> None:
        super().__init__(owner_id)
        self._load = load
        self._render = render
        self.current = first
        self._sync()

    def _sync(self) -> None:
        self.previous.disabled = self.current.page <= 1
        self.next.disabled = self.current.page >= self.current.page_count

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.current = await self._load(self.current.page + step)
        self._sync()
        await interaction.response.edit_message(embed=self._render(self.current), view=self)

    @discord.ui.button(label="Previous", emoji="◀", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, _: discord.ui.Button[LibraryPages]) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next", emoji="▶", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, _: discord.ui.Button[LibraryPages]) -> None:
        await self._turn(interaction, +1)


@app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
class Library(
    commands.GroupCog, group_name="library", group_description="Your saved papers (only you see them)"
):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot
        self.service = bot.services.library
        super().__init__()

    async def cog_load(self) -> None:
        # Save buttons and menus live on messages of every kind, old ones included.
        self.bot.add_dynamic_items(SavePaper, SaveFromList)
        if self.bot.settings.digest.scheduler:
            self.weekly.start()

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(SavePaper, SaveFromList)
        self.weekly.cancel()

    # ---- weekly picks DMs (background) ------------------------------------------------------------

    # Every 10 minutes: a failed DM's first retry is due 10 minutes later (weekly_picks.FIRST_RETRY).
    @tasks.loop(minutes=10)
    async def weekly(self) -> None:
        try:
            await self.send_weekly_picks()
        except Exception:
            log.exception("weekly picks failed; will try again")

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
        user_id = interaction.user.id

        async def load(page: int) -> LibraryPage:
            return await self.service.page(user_id, chosen, tag, page=page, page_size=PAGE_SIZE)

        folded = parse_tag(tag) if tag else None
        first = await load(1)

        def render(page: LibraryPage) -> discord.Embed:
            return library_embed(page, chosen, folded)

        if first.page_count == 1:
            await interaction.response.send_message(embed=render(first), ephemeral=True)
            return
        view = LibraryPages(user_id, first, load, render)
        await interaction.response.send_message(embed=render(first), view=view, ephemeral=True)
        view.message = await interaction.original_response()

    @app_commands.command(name="remove", description="Remove a paper from your library")
    @app_commands.describe(paper="One of your saved papers (start typing)")
    async def remove(self, interaction: discord.Interaction[PaperBot], paper: PaperOption) -> None:
        title = await self.service.remove(interaction.user.id, paper)
        await self._reply(interaction, f"Removed “{_render.md(truncate(title, 200))}” from your library.")

    @app_commands.command(name="read", description="Mark a saved paper as read")
    @app_commands.describe(paper="One of your saved papers (start typing)")
    async def read(self, interaction: discord.Interaction[PaperBot], paper: PaperOption) -> None:
        title = await self.service.mark(interaction.user.id, paper, read=True)
        await self._reply(interaction, f"✓ Marked “{_render.md(truncate(title, 200))}” as read.")

    @app_commands.command(name="unread", description="Mark a saved paper as unread")
    @app_commands.describe(paper="One of your saved papers (start typing)")
    async def unread(self, interaction: discord.Interaction[PaperBot], paper: PaperOption) -> None:
        title = await self.service.mark(interaction.user.id, paper, read=False)
        await self._reply(interaction, f"○ Marked “{_render.md(truncate(title, 200))}” as unread.")

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
        await self._reply(interaction, f"“{_render.md(truncate(title, 200))}”: {_render.md(shown)}.")

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
        await self._reply(interaction, f"{done} on “{_render.md(truncate(title, 200))}”.")

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
        await self.service.set_weekly(interaction.user.id, state == "on")
        if state == "on":
            text = "You'll get a DM once a week with new papers like the ones you saved."
        else:
            text = "Weekly picks are off."
        await self._reply(interaction, text)

    @app_commands.command(name="export", description="Your library as a file for a reference manager")
    @app_commands.describe(
        format="bibtex (LaTeX), ris (Zotero, EndNote), csv or markdown", tag="Only this tag"
    )
    async def export(
        self,
        interaction: discord.Interaction[PaperBot],
        format: Literal["bibtex", "ris", "csv", "markdown"],
        tag: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        result = await self.service.export(interaction.user.id, ExportFormat(format), tag)
        if len(result.data) > MAX_UPLOAD_BYTES:
            raise InvalidInput("That export is too large to upload: export one tag at a time.")
        file = discord.File(io.BytesIO(result.data), filename=result.filename)
        await interaction.response.send_message(
            f"Your library: {plural(result.count, 'paper')} as {format}.", file=file, ephemeral=True
        )


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Library(bot))
