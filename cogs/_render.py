"""Papers -> embeds and link buttons, within Discord's limits. The one place that knows them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import discord

from bot.domain.about import FORGET_POINTER, MEMBER_DATA, NOT_KEPT, format_size, format_uptime
from bot.domain.digest import DigestMessage, EmbedSpec
from bot.domain.layout import (
    byline,
    cut_at_sentence,
    escape,
    escape_within,
    md_link,
    one_line,
    plural,
    short_authors,
    truncate,
)
from bot.domain.models import Paper
from bot.domain.schedule import DigestConfig, post_instant
from bot.domain.text import clean_line, clean_lines
from bot.services.container import Overview
from bot.services.digest import DigestStatus
from bot.services.momentum import Ranked, Ranking
from bot.services.papers import DailyList, Stats
from bot.services.search import SearchHit, SearchResults, Suggestion
from bot.services.similar import SimilarPaper
from bot.storage.fetches import FetchRecord
from bot.storage.shard_claims import ServerCount

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
CONTENT_LIMIT = 2000
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER_TEXT = 2048
EMBED_TOTAL = 6000
CHOICE_NAME = 100
CHOICE_VALUE = 100
MAX_CHOICES = 25

ACCENT = discord.Colour(0xFFB000)
md = escape  # paper text made inert for chat: no markdown, no mentions
ABSTRACT_LIMIT = 1500  # a readable card; the full text is one click away


def link(title: str, url: str | None, limit: int) -> str:
    return md_link(escape_within(title, limit), url)


def _day(paper: Paper) -> date | None:
    return paper.published or paper.first_listed


def paper_embed(paper: Paper) -> discord.Embed:
    embed = discord.Embed(
        title=escape_within(paper.title, EMBED_TITLE),
        url=paper.url,
        description=md(cut_at_sentence(paper.abstract, ABSTRACT_LIMIT)),
        colour=ACCENT,
    )
    # Judged after cleaning: names stored before blanks were (only zero-width characters) show
    # nothing, and Discord refuses a field with an empty value.
    authors = short_authors(paper.authors, keep=5, limit=FIELD_VALUE - 20)
    if authors:
        embed.add_field(name="Authors", value=md(authors), inline=False)
    when = _day(paper)
    if when:
        embed.add_field(name="Published" if paper.published else "Listed", value=when.isoformat())
    if paper.upvotes is not None:
        embed.add_field(name="Upvotes", value=f"▲ {paper.upvotes}")
    keywords = ", ".join(dict.fromkeys(clean_lines(paper.ai_keywords)))
    if keywords:
        embed.add_field(name="Keywords", value=escape_within(keywords, FIELD_VALUE), inline=False)
    if paper.thumbnail_url:
        embed.set_thumbnail(url=paper.thumbnail_url)
    embed.set_footer(text=f"id {paper.id}")
    return fit(embed)


def paper_links(paper: Paper) -> list[discord.ui.Button[Any]]:
    """Link buttons (arXiv, PDF, Hugging Face, code, project page) for the links the paper has."""
    return [
        discord.ui.Button(label=label, url=url)
        for label, url in (
            ("arXiv", paper.abs_url),
            ("PDF", paper.pdf_url),
            ("Hugging Face", paper.hf_url),
            ("Code", paper.code_url),
            ("Project page", paper.project_url),
        )
        if url  # a Paper only holds links Discord accepts (bot.domain.urls)
    ]


def search_page(
    query: str, hits: Sequence[SearchHit], *, page: int, page_count: int, results: SearchResults
) -> discord.Embed:
    lines = []
    for hit in hits:
        paper = hit.paper
        when = _day(paper)
        meta = byline(short_authors(paper.authors, limit=120), when.isoformat() if when else "")
        snippet = escape_within(clean_line(hit.snippet or paper.abstract), 180)
        lines.append(f"**{link(paper.title, paper.url, 200)}**\n{md(meta)}\n> {snippet}")
    embed = discord.Embed(
        title=f"Papers matching “{escape_within(clean_line(query), 200)}”",
        description="\n\n".join(lines),
        colour=ACCENT,
    )
    found = f"{results.count_text()} result{'s' * (results.total != 1)}"
    note = f" · spelling corrected to “{one_line(results.correction, 80)}”" if results.correction else ""
    if results.some_words:
        note += " · no paper has every word: papers with some of them"
    embed.set_footer(text=f"Page {page}/{page_count} · {found}{note}")
    return fit(embed)


def similar_page(source: Paper, hits: Sequence[SimilarPaper]) -> discord.Embed:
    """Papers like ``source``, each with the distinctive words they share with it."""
    lines = []
    for rank, hit in enumerate(hits, 1):
        shared = ", ".join(f"`{term}`" for term in hit.shared[:6])
        meta = byline(md(short_authors(hit.paper.authors, limit=100)), f"shares {shared}" if shared else "")
        lines.append(
            f"**{rank}.** {link(hit.paper.title, hit.paper.url, 180)}" + (f"\n{meta}" if meta else "")
        )
    embed = discord.Embed(
        title=f"More like “{escape_within(clean_line(source.title), 200)}”",
        url=source.url,
        description="\n".join(lines) or "No similar papers in the store yet.",
        colour=ACCENT,
    )
    embed.set_footer(text="Ranked by the rare words they share with this paper")
    return fit(embed)


def daily_page(
    daily: DailyList, papers: Sequence[Paper], *, first_rank: int, page: int, page_count: int
) -> discord.Embed:
    lines = []
    for rank, paper in enumerate(papers, first_rank):
        votes = f"▲ {paper.upvotes}" if paper.upvotes is not None else ""
        meta = byline(md(short_authors(paper.authors, limit=100)), votes)
        lines.append(f"**{rank}.** {link(paper.title, paper.url, 180)}" + (f"\n{meta}" if meta else ""))
    embed = discord.Embed(
        title=f"Daily papers · {daily.day.strftime('%A %d %B %Y')}",
        description="\n".join(lines),
        colour=ACCENT,
    )
    embed.set_footer(text=f"Page {page}/{page_count} · {plural(len(daily.papers), 'paper')}")
    return fit(embed)


def ranking_freshness(ranking: Ranking) -> str:
    """How fresh the counts are, in words every member sees in their own time zone."""
    if ranking.counted == "votes":
        return f"Last vote {stamp(ranking.updated_at, 'R')}." if ranking.updated_at else "No votes yet."
    if ranking.updated_at is None:
        return "Counts have not been recorded yet."
    return f"Counts updated {stamp(ranking.updated_at, 'R')}."


def ranking_page(
    ranking: Ranking, entries: Sequence[Ranked], *, first_rank: int, page: int, page_count: int
) -> discord.Embed:
    """One page of /papers top or /papers rising: rank, linked title, counts, and how fresh they are."""
    lines = [f"{md(ranking.covers)} · {ranking_freshness(ranking)}", ""]
    for rank, entry in enumerate(entries, first_rank):
        counts = []
        if entry.votes is not None:
            counts.append(f"👍 {plural(entry.votes, 'vote')}")
        if entry.gain is not None:
            counts.append(f"+{entry.gain} in 24 h")
        if entry.upvotes is not None:
            counts.append(f"▲ {entry.upvotes}")
        if entry.comments:
            counts.append(f"💬 {entry.comments}")
        if entry.stars:
            counts.append(f"★ {entry.stars}")
        paper = entry.paper
        meta = byline(md(short_authors(paper.authors, limit=80)), " · ".join(counts))
        lines.append(f"**{rank}.** {link(paper.title, paper.url, 180)}" + (f"\n{meta}" if meta else ""))
    embed = discord.Embed(title=ranking.title, description="\n".join(lines), colour=ACCENT)
    shown = f"top {len(ranking.entries)} of {plural(ranking.listed, 'listed paper')}"
    embed.set_footer(text=f"Page {page}/{page_count} · {shown}")
    return fit(embed)


def spec_embed(spec: EmbedSpec) -> discord.Embed:
    embed = discord.Embed(title=spec.title, url=spec.url, description=spec.description, colour=ACCENT)
    if spec.footer:
        embed.set_footer(text=spec.footer)
    return fit(embed)


def message_embeds(message: DigestMessage) -> list[discord.Embed]:
    return [spec_embed(spec) for spec in message.embeds]


def servers_text(count: ServerCount) -> str:
    """The bot's servers, summed over every process's shards, and how fresh the sum is."""
    fresh = f"counted {stamp(count.counted_at, 'R')}" if count.counted_at else "not counted yet"
    if count.shards >= count.shard_count:
        return f"{count.servers} · {fresh}"
    return (
        f"{count.servers} on {count.shards} of {count.shard_count} shards · {fresh} "
        "(the other shards' processes have not counted lately)"
    )


def stats_embed(overview: Overview, *, servers: ServerCount, next_post: datetime | None) -> discord.Embed:
    embed = discord.Embed(title="paperbot at a glance", colour=ACCENT)
    sources = ", ".join(f"{name}: {count}" for name, count in sorted(overview.by_source.items())) or "none"
    embed.add_field(name="Papers", value=f"{overview.papers} ({sources})", inline=False)
    embed.add_field(
        name="Latest list", value=overview.latest_list.isoformat() if overview.latest_list else "none"
    )
    fetch = overview.last_fetch
    if fetch is None:
        fetched = "never"
    elif fetch.ok:
        fetched = f"{stamp(fetch.fetched_at, 'R')}: {plural(fetch.papers, 'paper')}"
    else:
        fetched = f"{stamp(fetch.fetched_at, 'R')}: failed ({escape_within(fetch.error or '', 200)})"
    embed.add_field(name="Last fetch", value=fetched)
    upcoming = " · ".join(f"{name}: {stamp(at, 'R')}" for name, at in overview.next_fetch.items())
    embed.add_field(name="Next fetch", value=upcoming or "no source enabled")
    if overview.hf_calls is not None:
        used, allowed, per = overview.hf_calls
        window = f"{per / 60:g} minutes" if per >= 60 else f"{per:g} seconds"
        embed.add_field(name="Hugging Face calls", value=f"{used} of {allowed} in the last {window}")
    embed.add_field(name="Servers", value=servers_text(servers))
    embed.add_field(name="Digests", value=f"{overview.digest_servers} set up, {overview.digest_posts} posted")
    embed.add_field(name="Follows", value=f"{overview.follows}, {plural(overview.alerts_sent, 'alert')} sent")
    when = stamp(next_post) if next_post else "no digest set up here"
    embed.add_field(name="Next post here", value=when, inline=False)
    return fit(embed)


def digest_status(status: DigestStatus) -> discord.Embed:
    """What /digest setup and /digest show answer: settings, state, last post and fetch, next post."""
    config = status.config
    state = "⏸️ Paused" if config.paused else "✅ Active"
    weekly = config.cadence == "weekly"
    embed = discord.Embed(title="Weekly digest" if weekly else "Daily digest", colour=ACCENT)
    embed.add_field(name="Status", value=state, inline=False)
    if config.pause_reason:
        embed.add_field(name="Why paused", value=md(config.pause_reason[:1000]), inline=False)
    if weekly:
        days = f"{WEEKDAY_NAMES[config.weekday]}s"
    else:
        days = "weekdays" if config.weekdays_only else "every day"
    embed.add_field(name="Channel", value=f"<#{config.channel_id}>")
    embed.add_field(name="When", value=f"{config.post_time:%H:%M} {config.timezone}, {days}")
    embed.add_field(
        name="Papers", value=f"up to {config.max_papers}" + (" · thread" if config.thread else "")
    )
    # Always shown: /digest setup again keeps a topic left out, and the reply says what is in force.
    topic = md(config.topic) if config.topic else "every paper (`topic:*` drops a topic)"
    embed.add_field(name="Topic", value=topic, inline=False)
    if weekly:
        covers = "the week's most upvoted papers (the last seven lists)"
        embed.add_field(name="List", value=covers)
    else:
        covers = "yesterday's whole list" if config.list_mode == "complete" else "today's list so far"
        embed.add_field(name="List", value=f"{config.list_mode}: {covers}")
    if status.posting_now:
        period = f"the week of {status.posting_now:%a %d %b}" if weekly else f"{status.posting_now:%a %d %b}"
        embed.add_field(
            name="Posting now", value=f"the post for {period}: {posting_why(status)}", inline=False
        )
    if status.current and not config.paused:
        name = "This week" if weekly else "Today"
        embed.add_field(name=name, value=current_text(status)[:1024], inline=False)
    if status.next_post:
        embed.add_field(name="Next post", value=stamp(status.next_post), inline=False)
    if status.last_post:
        last = status.last_post
        what = "Not posted" if last.missed else LAST_POST.get(str(last.state), str(last.state).capitalize())
        when = "for the week of" if weekly else "on"
        text = f"{what} {when} {last.post_day:%a %d %b %Y}"
        if last.error:
            text += f" ({md(last.error[:300])})"
        embed.add_field(name="Last post", value=text, inline=False)
    if status.missed:
        week = "week of " if weekly else ""
        lines = [f"{week}{m.post_day:%a %d %b}: {md(m.reason[:200])}" for m in status.missed]
        embed.add_field(name="Not posted", value="\n".join(lines)[:1024], inline=False)
    if status.last_fetch:
        fetch = status.last_fetch
        result = plural(fetch.papers, "paper") if fetch.ok else f"failed: {md((fetch.error or '')[:300])}"
        if fetch.ok and fetch.error:  # the malformed entries a good fetch left out
            result += f" ({md(fetch.error[:300])})"
        embed.add_field(name="Last fetch", value=f"{stamp(fetch.fetched_at, 'R')}: {result}", inline=False)
    return fit(embed)


# A post whose time came this recently is going out at its time, not catching up.
ON_TIME = timedelta(minutes=2)


def posting_why(status: DigestStatus) -> str:
    """Why a post goes out now, as it is: its time is now, a catch-up (how late), or a resume."""
    assert status.posting_now is not None
    if status.posting_claim is not None:
        return "being sent (an interrupted post goes on where it stopped)"
    at = post_instant(status.config, status.posting_now)
    late = (status.checked_at or at) - at
    if late <= ON_TIME:
        return f"its time, {at:%H:%M}, is now"
    return f"its time, {at:%H:%M}, passed {format_uptime(late)} ago: a post that late still goes out"


def current_text(status: DigestStatus) -> str:
    """What became of today's (this week's) post: what an admin changing the time needs to know."""
    current, config, now = status.current, status.config, status.checked_at
    assert current is not None and now is not None
    zone = ZoneInfo(config.timezone)
    period = (
        f"week of {current.post_day:%a %d %b}"
        if config.cadence == "weekly"
        else f"{current.post_day:%a %d %b}"
    )
    record = current.record
    if record is not None:
        started = record.claimed_at.astimezone(zone)
        if record.missed:
            why = md((record.error or "")[:300]).rstrip(".")
            return f"{period}: not posted ({why}). `/digest post-now` posts it now."
        if record.state == "posted":
            return f"{period}: posted at {started:%H:%M}."
        if record.state == "claimed":
            return f"{period}: being sent (started {started:%H:%M})."
        if record.state == "failed":
            return f"{period}: could not post ({md((record.error or '')[:300])})."
        return f"{period}: nothing to post (done at {started:%H:%M})."
    if current.at is None:
        return f"{period}: no post (weekdays only)."
    if status.posting_now == current.post_day:
        return f"{period}: going out now."
    if current.at > now:
        return f"{period}: goes out at {current.at:%H:%M}."
    if config.schedule_from is not None and current.at < config.schedule_from:
        return f"{period}: none, its time ({current.at:%H:%M}) came before the digest was set up."
    return f"{period}: not posted yet, its time ({current.at:%H:%M}) passed while I was offline."


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def digest_choice(config: DigestConfig, channel_name: str | None) -> str:
    """How /digest autocomplete names a digest: its channel, schedule and topic."""
    where = f"#{channel_name}" if channel_name else f"channel {config.channel_id}"
    when = f"{config.cadence} {config.post_time:%H:%M} {config.timezone}"
    topic = f" · {config.topic}" if config.topic else ""
    return choice_name(f"{where} · {when}{topic}")


def embed_pages(embeds: Sequence[discord.Embed]) -> list[list[discord.Embed]]:
    """Embeds in as few messages as Discord allows (10 embeds, 6,000 characters each)."""
    pages: list[list[discord.Embed]] = [[]]
    for embed in embeds:
        page = pages[-1]
        if page and (len(page) >= 10 or sum(len(e) for e in page) + len(embed) > 6000):
            pages.append([])
        pages[-1].append(embed)
    return pages


# How the last post of /digest show reads ("Posted on Fri 27 Nov 2026"), by ledger state.
LAST_POST = {
    "posted": "Posted",
    "skipped": "Nothing to post",
    "failed": "Could not post",
    "claimed": "Being posted (an interrupted post resumes by itself)",
}


def stamp(when: datetime, style: str = "F") -> str:
    """A Discord timestamp: every member sees it in their own time zone."""
    return f"<t:{int(when.timestamp())}:{style}>"


def choice_name(title: str) -> str:
    return truncate(" ".join(title.split()), CHOICE_NAME)


def title_choices(suggestions: Sequence[Suggestion]) -> list[discord.app_commands.Choice[str]]:
    """Autocomplete choices for paper titles, within Discord's limits (value: the paper id)."""
    return [
        discord.app_commands.Choice(name=choice_name(s.title), value=s.paper_id)
        for s in suggestions
        if len(s.paper_id) <= CHOICE_VALUE
    ]


def fit(embed: discord.Embed) -> discord.Embed:
    """Enforce the per-part and 6,000-character limits, trimming the description last-resort."""
    if embed.title:
        embed.title = truncate(embed.title, EMBED_TITLE)
    if embed.description:
        embed.description = truncate(embed.description, EMBED_DESCRIPTION)
    for index, field in enumerate(embed.fields[:25]):
        embed.set_field_at(
            index,
            name=truncate(field.name or "\u200b", FIELD_NAME),
            value=truncate(field.value or "\u200b", FIELD_VALUE),
            inline=bool(field.inline),
        )
    while len(embed.fields) > 25:
        embed.remove_field(-1)
    overflow = len(embed) - EMBED_TOTAL
    if overflow > 0 and embed.description:
        embed.description = truncate(embed.description, max(0, len(embed.description) - overflow))
    return embed


SOURCE_NAMES = {"hf": "Hugging Face Daily Papers", "arxiv": "arXiv announcements"}
MAX_FIELDS = 25


def help_embed(fields: Sequence[tuple[str, str]], *, where: str) -> discord.Embed:
    """/help: one field per command group (already within FIELD_VALUE), at most 25 fields."""
    embed = discord.Embed(title="paperbot commands", description=f"What you can use {where}:", colour=ACCENT)
    total = len(embed.title or "") + len(embed.description or "")
    for name, value in fields[:MAX_FIELDS]:
        if total + len(name) + len(value) > EMBED_TOTAL - 100:
            break
        embed.add_field(name=truncate(name, FIELD_NAME), value=value, inline=False)
        total += len(name) + len(value)
    embed.set_footer(text="/about: version, uptime, and what paperbot keeps about you")
    return embed


def about_embed(
    *,
    version: str,
    stats: Stats,
    last_fetches: dict[str, FetchRecord | None],
    store_bytes: int | None,
    uptime: timedelta,
    invite: str | None,
) -> discord.Embed:
    embed = discord.Embed(
        title=f"paperbot {version}",
        description="Daily research papers for this community: search, digests and keyword alerts.",
        colour=ACCENT,
    )
    sources = []
    for source, fetch in last_fetches.items():
        name = SOURCE_NAMES.get(source, source)
        if fetch is None:
            sources.append(f"{name}: not fetched yet")
        elif fetch.ok:
            sources.append(f"{name}: {plural(fetch.papers, 'paper')} {stamp(fetch.fetched_at, 'R')}")
        else:
            sources.append(f"{name}: last fetch failed {stamp(fetch.fetched_at, 'R')}")
    embed.add_field(
        name="Sources", value=truncate("\n".join(sources) or "none enabled", FIELD_VALUE), inline=False
    )
    size = f" · {format_size(store_bytes)} on disk" if store_bytes is not None else ""
    embed.add_field(name="Store", value=f"{plural(stats.papers, 'paper')}{size}")
    embed.add_field(name="Uptime", value=format_uptime(uptime))
    embed.add_field(
        name="Invite", value=f"[Add paperbot to a server]({invite})" if invite else "not known yet"
    )
    kept = "\n".join(f"• {line}" for line in MEMBER_DATA)
    embed.add_field(
        name="What paperbot keeps about you", value=f"{kept}\n{NOT_KEPT}\n{FORGET_POINTER}", inline=False
    )
    return embed
