"""/papers: search, show, random, today, stats. Validate input, call a service, render the reply."""

from __future__ import annotations

import logging
from datetime import date
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.client import PaperBot
from bot.domain.digest import PaperRef, paper_ref
from bot.domain.layout import pages, truncate
from bot.domain.momentum import Period, parse_period
from bot.errors import InvalidInput
from bot.repeating_failure import RepeatingFailures
from bot.services.answer_cache import AnswerCache
from bot.services.momentum import Ranking
from bot.services.search import SearchResults
from bot.services.shard_claims import COUNT_EVERY
from bot.services.votes import IN_A_SERVER
from cogs import _render
from cogs._views import (
    AnotherOne,
    FollowKeywords,
    PageTurn,
    SimilarButton,
    VoteFromList,
    VoteToggle,
    another_one,
    components,
    followable,
    page_blob,
    paged,
    paged_blob,
    paper_items,
    save_menu,
    similar_reply,
    with_view,
)

log = logging.getLogger(__name__)

TODAY_PAGE_SIZE = 10
RANKING_PAGE_SIZE = 10
QUERY_MAX = 200
RENDERED_BUDGET_BYTES = 8 * 1024 * 1024
DYNAMIC_ITEMS = (SimilarButton, VoteFromList, VoteToggle, PageTurn, AnotherOne, FollowKeywords)
# The search service's answers epoch it was rendered in, and the pages as ``page_blob`` encodes them.
RenderedSearch = tuple[int, bytes]


def _rendered_weight(rendered: RenderedSearch) -> int:
    return len(rendered[1]) + 200  # the blob, and the entry, key and tuple around it


class Papers(commands.GroupCog, group_name="papers", group_description="Find and read research papers"):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot
        self.papers = bot.services.papers
        self.momentum = bot.services.momentum
        # Rendered search answers (by the text as typed), as many as the search service keeps
        # answers, within a byte budget: what a repeated search is shown from.
        self._rendered: AnswerCache[tuple[str, int], RenderedSearch] = AnswerCache(
            bot.settings.search.answer_cache, budget_bytes=RENDERED_BUDGET_BYTES, weigh=_rendered_weight
        )
        self.watch.change_interval(seconds=bot.settings.search.refresh_seconds)
        self._failing = RepeatingFailures(log)
        super().__init__()

    async def cog_load(self) -> None:
        # Similar buttons live on paper messages of any age.
        self.bot.add_dynamic_items(
            SimilarButton, VoteFromList, VoteToggle, PageTurn, AnotherOne, FollowKeywords
        )
        if self.bot.settings.digest.scheduler:
            self.watch.start()
            self.count_servers.start()

    async def cog_unload(self) -> None:
        self.watch.cancel()
        self.count_servers.cancel()
        self.bot.remove_dynamic_items(
            SimilarButton, VoteFromList, VoteToggle, PageTurn, AnotherOne, FollowKeywords
        )

    @tasks.loop(seconds=5)
    async def watch(self) -> None:
        # A CLI ingest (another process) adds papers: autocomplete and typo correction learn their
        # titles, and their follow alerts go out now, without a restart.
        try:
            if await self.bot.services.refresh_if_changed():
                self.bot.dispatch("papers_ingested")
        except Exception as exc:
            self._failing.failed("refreshing from the store", exc, key="refresh")
        else:
            self._failing.succeeded("refreshing from the store", key="refresh")

    @tasks.loop(seconds=COUNT_EVERY.total_seconds())
    async def count_servers(self) -> None:
        # This process's shards' server counts, on its claims: /papers stats in any process sums them.
        try:
            await self._record_servers()
        except Exception as exc:
            self._failing.failed("recording the server count", exc, key="count")
        else:
            self._failing.succeeded("recording the server count", key="count")

    @count_servers.before_loop
    async def _wait_ready(self) -> None:
        await self.bot.wait_until_ready()

    async def _record_servers(self) -> int:
        """Record this process's shards' server counts on its shard claims; returns the shard count
        they belong to."""
        bot = self.bot
        shard_count = bot.shard_count or 1
        counts = dict.fromkeys(bot.shards or bot.shard_ids or (0,), 0)  # a shard without servers counts 0
        for guild in bot.guilds:
            counts[guild.shard_id] = counts.get(guild.shard_id, 0) + 1
        await bot.services.shards.count_servers(counts)
        return shard_count

    # ---- commands ------------------------------------------------------------------------------

    @app_commands.command(
        name="search",
        description="Search titles, abstracts and authors (typos are forgiven)",
        extras={"example": "/papers search query:diffusion models"},
    )
    @app_commands.describe(
        query='Words to look for: "exact phrase", -word to leave out, title:/abstract:/author: a field',
        limit="How many results to fetch (1-25, default 10)",
    )
    async def search(
        self,
        interaction: discord.Interaction[PaperBot],
        query: app_commands.Range[str, 1, QUERY_MAX],
        limit: app_commands.Range[int, 1, 25] = 10,
    ) -> None:
        search = self.papers.search
        epoch = search.answers_epoch
        kept = self._rendered.get((query, limit))
        if kept is not None and kept[0] == epoch:
            await interaction.response.send_message(**paged_blob(self.bot, interaction.user.id, kept[1]))
            return
        results = await search.find(query, limit=limit)
        if not results.hits:
            close = await search.suggest(query, limit=3)
            hint = "".join(f"\n• {_render.md(s.title)}" for s in close)
            message = f"No papers match “{_render.md(query)}”." + (f" Close titles:{hint}" if hint else "")
            await interaction.response.send_message(truncate(message, _render.CONTENT_LIMIT), ephemeral=True)
            return
        blob = self._search_pages(query, results)
        if kept is not None:  # rendered before the papers last changed: none of those is right now
            self._rendered.clear()
        if search.answers_epoch == epoch:
            self._rendered.put((query, limit), (epoch, blob), since=self._rendered.epoch)
        await interaction.response.send_message(**paged_blob(self.bot, interaction.user.id, blob))

    def _search_pages(self, query: str, results: SearchResults) -> bytes:
        """A search's answer rendered as the compact blob it is shown and kept as (the same query
        asked again is shown from it, no papers or embeds kept)."""
        chunks = pages(results.hits, self.bot.settings.search.page_size)
        embeds = [
            _render.search_page(query, chunk, page=i, page_count=len(chunks), results=results)
            for i, chunk in enumerate(chunks, 1)
        ]
        return page_blob(embeds, [[paper_ref(hit.paper) for hit in chunk] for chunk in chunks])

    @app_commands.command(
        name="show",
        description="Show one paper with its abstract and links",
        extras={"example": "/papers show paper:Attention Is All You Need"},
    )
    @app_commands.describe(paper="Start typing a title (or paste an arXiv id or link)")
    async def show(
        self, interaction: discord.Interaction[PaperBot], paper: app_commands.Range[str, 1, 300]
    ) -> None:
        found = await self.papers.show(paper)
        follow = [FollowKeywords(found.ai_keywords)] if followable(found.ai_keywords) else []
        view = components(*follow, *paper_items(found))
        await interaction.response.send_message(embed=_render.paper_embed(found), view=view)

    @show.autocomplete("paper")
    async def show_autocomplete(
        self, interaction: discord.Interaction[PaperBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._title_choices(current)

    async def _title_choices(self, current: str) -> list[app_commands.Choice[str]]:
        suggestions = await self.papers.search.suggest(current[:QUERY_MAX], limit=_render.MAX_CHOICES)
        return _render.title_choices(suggestions)

    @app_commands.command(
        name="similar",
        description="Papers like this one, by the rare words they share",
        extras={"example": "/papers similar paper:Attention Is All You Need"},
    )
    @app_commands.describe(paper="Start typing a title (or paste an arXiv id or link)")
    async def similar(
        self, interaction: discord.Interaction[PaperBot], paper: app_commands.Range[str, 1, 300]
    ) -> None:
        embed, view = await similar_reply(self.bot, paper)
        await interaction.response.send_message(embed=embed, **with_view(view))

    @similar.autocomplete("paper")
    async def similar_autocomplete(
        self, interaction: discord.Interaction[PaperBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._title_choices(current)

    @app_commands.command(
        name="random",
        description="A random paper, optionally on a topic",
        extras={"example": "/papers random topic:robotics"},
    )
    @app_commands.describe(topic="Only papers matching these words (optional)")
    async def random(
        self,
        interaction: discord.Interaction[PaperBot],
        topic: app_commands.Range[str, 1, QUERY_MAX] | None = None,
    ) -> None:
        first = await self.papers.random(topic)
        if first is None:
            what = f"about “{_render.md(topic)}”" if topic else "in the store yet"
            await interaction.response.send_message(f"There are no papers {what}.", ephemeral=True)
            return

        view = another_one(self.bot, interaction.user.id, topic, first)
        await interaction.response.send_message(embed=_render.paper_embed(first), view=view)

    @app_commands.command(
        name="today",
        description="The daily papers list (the latest one by default)",
        extras={"example": "/papers today day:2026-07-30"},
    )
    @app_commands.describe(day="A date as YYYY-MM-DD (default: the latest list)")
    async def today(
        self, interaction: discord.Interaction[PaperBot], day: app_commands.Range[str, 1, 10] | None = None
    ) -> None:
        daily = await self.papers.daily_list(_parse_day(day) if day else None)
        chunks = pages(daily.papers, TODAY_PAGE_SIZE)
        embeds = [
            _render.daily_page(
                daily, chunk, first_rank=1 + (i - 1) * TODAY_PAGE_SIZE, page=i, page_count=len(chunks)
            )
            for i, chunk in enumerate(chunks, 1)
        ]
        await self._send_pages(interaction, embeds, [[paper_ref(p) for p in chunk] for chunk in chunks])

    @app_commands.command(
        name="top",
        description="The most upvoted papers of a day, week or month (or this server's 👍 votes)",
        extras={"example": "/papers top period:month scope:server"},
    )
    @app_commands.describe(
        period="week (default), month, day; or ending at a date: day:YYYY-MM-DD, week:YYYY-MM-DD",
        scope="huggingface: Hugging Face upvotes (default); server: this server's 👍 votes on digests",
    )
    async def top(
        self,
        interaction: discord.Interaction[PaperBot],
        period: app_commands.Range[str, 1, 20] = Period.WEEK.value,
        scope: Literal["huggingface", "server"] = "huggingface",
    ) -> None:
        chosen, day = parse_period(period)
        if scope == "huggingface":
            await self._send_ranking(interaction, await self.momentum.top(chosen, day))
            return
        if interaction.guild_id is None:
            raise InvalidInput(IN_A_SERVER)
        ranking = await self.momentum.server_top(interaction.guild_id, chosen, day)
        if not ranking.entries:
            await interaction.response.send_message(
                f"No paper listed {ranking.covers} has a vote in this server yet: "
                "vote with the 👍 menu under a digest post.",
                ephemeral=True,
            )
            return
        await self._send_ranking(interaction, ranking)

    @top.autocomplete("period")
    async def top_autocomplete(
        self, interaction: discord.Interaction[PaperBot], current: str
    ) -> list[app_commands.Choice[str]]:
        options = [Period.WEEK.value, Period.MONTH.value, Period.DAY.value]
        options += [f"day:{day.isoformat()}" for day in await self.momentum.recent_list_days(10)]
        wanted = current.strip().lower()
        return [app_commands.Choice(name=o, value=o) for o in options if wanted in o][: _render.MAX_CHOICES]

    @app_commands.command(
        name="rising",
        description="Papers gaining upvotes fastest in the last 24 hours",
        extras={"example": "/papers rising"},
    )
    async def rising(self, interaction: discord.Interaction[PaperBot]) -> None:
        await self._send_ranking(interaction, await self.momentum.rising())

    async def _send_ranking(self, interaction: discord.Interaction[PaperBot], ranking: Ranking) -> None:
        if not ranking.entries:
            note = _render.ranking_freshness(ranking)
            await interaction.response.send_message(
                f"No paper gained upvotes in the last day. {note}", ephemeral=True
            )
            return
        chunks = pages(ranking.entries, RANKING_PAGE_SIZE)
        embeds = [
            _render.ranking_page(
                ranking, chunk, first_rank=1 + (i - 1) * RANKING_PAGE_SIZE, page=i, page_count=len(chunks)
            )
            for i, chunk in enumerate(chunks, 1)
        ]
        await self._send_pages(interaction, embeds)

    # Checked in the body (the rest of /papers is for everyone); extras tell /help the same rule.
    @app_commands.command(
        name="stats",
        description="Store, sources, digests and alerts at a glance (admins)",
        extras={"guild_only": True, "permissions": ("manage_guild",)},
    )
    async def stats(self, interaction: discord.Interaction[PaperBot]) -> None:
        if interaction.guild is None:
            raise app_commands.NoPrivateMessage()
        if not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        overview = await self.bot.services.overview()
        servers = await self.bot.services.shards.servers(await self._record_servers())  # this process's: now
        statuses = await self.bot.services.digests.statuses(interaction.guild.id)
        upcoming = [status.next_post for status in statuses if status.next_post]
        embed = _render.stats_embed(
            overview,
            servers=servers,
            next_post=min(upcoming) if upcoming else None,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    async def _send_pages(
        self,
        interaction: discord.Interaction[PaperBot],
        embeds: list[discord.Embed],
        papers: list[list[PaperRef]] | None = None,
    ) -> None:
        """One page, or Previous/Next; with ``papers`` (per page) a menu saves any paper shown."""
        if len(embeds) == 1:
            menu = save_menu(papers[0]) if papers else None
            await interaction.response.send_message(embed=embeds[0], **with_view(menu))
            return
        first = paged(self.bot, interaction.user.id, embeds, papers)
        await interaction.response.send_message(**first)


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"“{text}” is not a date: use YYYY-MM-DD, for example 2026-07-30.") from None


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Papers(bot))
