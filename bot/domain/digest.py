"""What a day's digest post says and how it is split to fit Discord's limits. No Discord types.

A post is a header (date, count, source) followed by compact entries (linked title, authors,
one-line summary, upvotes) in the source's rank order. Entries are packed into embed
descriptions (4,096 characters) and embeds into messages (10 embeds, 6,000 characters). The
first embed of every message carries a marker in its footer (``digest 2026-07-30 · 2 of 3``)
so a restarted bot can tell which parts are already in the channel.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from bot.domain.layout import (
    byline,
    escape,
    escape_within,
    md_link,
    plural,
    short_authors,
)
from bot.domain.models import Paper
from bot.domain.text import clean_line

DESCRIPTION_BUDGET = 4000  # of 4,096: room for separators
MESSAGE_BUDGET = 5800  # of 6,000 across a message's embeds: titles and footers count too
EMBEDS_PER_MESSAGE = 10
SOURCE_LABELS = {"hf-api": "Hugging Face Daily Papers", "hf-page": "Hugging Face Daily Papers"}


PaperRef = tuple[str, str]  # (paper id, title): what a "Save a paper" menu under the message offers


@dataclass(frozen=True, slots=True)
class EmbedSpec:
    description: str
    title: str | None = None
    url: str | None = None
    footer: str | None = None
    papers: tuple[str, ...] = ()  # the papers whose entries this embed holds (not shown)
    saves: tuple[PaperRef, ...] = ()  # the same papers as the Save menu offers them

    def size(self) -> int:
        return len(self.description) + len(self.title or "") + len(self.footer or "")


@dataclass(frozen=True, slots=True)
class DigestMessage:
    embeds: tuple[EmbedSpec, ...]

    @property
    def papers(self) -> tuple[str, ...]:
        """The papers this message delivers, in order."""
        return tuple(key for embed in self.embeds for key in embed.papers)

    @property
    def saves(self) -> tuple[PaperRef, ...]:
        """What a Save menu under this message offers, in order."""
        return tuple(ref for embed in self.embeds for ref in embed.saves)


@dataclass(frozen=True, slots=True)
class DigestPlan:
    """Everything one post will say. ``list_date`` is None for a note-only post."""

    post_day: date
    list_date: date | None
    messages: tuple[DigestMessage, ...]
    paper_count: int

    @property
    def parts(self) -> int:
        return len(self.messages)

    @property
    def marker(self) -> str | None:
        """The marker its parts' footers carry (``part_footer``), read from the plan itself: a
        resume looks for exactly what the frozen plan was sent with, whichever paperbot froze it
        (weekly posts frozen before their footers named the covered week say ``digest 2026-W48``)."""
        if not self.messages:
            return None
        footer = self.messages[0].embeds[0].footer or ""
        return footer.removesuffix(f" · 1 of {self.parts}") if self.parts > 1 else footer

    def to_json(self) -> str:
        """The frozen form stored with a claim: a resume sends exactly these parts."""
        return json.dumps(
            {
                "post_day": self.post_day.isoformat(),
                "list_date": self.list_date.isoformat() if self.list_date else None,
                "paper_count": self.paper_count,
                "messages": messages_to_data(self.messages),
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> DigestPlan:
        data = json.loads(text)
        return cls(
            post_day=date.fromisoformat(data["post_day"]),
            list_date=date.fromisoformat(data["list_date"]) if data["list_date"] else None,
            messages=messages_from_data(data["messages"]),
            paper_count=data["paper_count"],
        )


def messages_to_data(messages: Sequence[DigestMessage]) -> list[list[dict[str, Any]]]:
    return [
        [
            {
                "description": e.description,
                "title": e.title,
                "url": e.url,
                "footer": e.footer,
                "papers": e.papers,
                "saves": e.saves,
            }
            for e in message.embeds
        ]
        for message in messages
    ]


def messages_from_data(data: Sequence[Sequence[dict[str, Any]]]) -> tuple[DigestMessage, ...]:
    return tuple(
        DigestMessage(
            tuple(
                EmbedSpec(
                    e["description"],
                    e.get("title"),
                    e.get("url"),
                    e.get("footer"),
                    tuple(e.get("papers", ())),
                    tuple((str(ref[0]), str(ref[1])) for ref in e.get("saves", ())),
                )
                for e in message
            )
        )
        for message in data
    )


def digest_marker(post_day: date) -> str:
    return f"digest {post_day.isoformat()}"


def weekly_marker(covered: str) -> str:
    """A weekly post's marker names the week its lists cover as its title does (``digest · 2026
    week 47``), not the week it is posted in (its ledger key): the member reads one week on a
    post. Never a daily one's (``digest 2026-…``); each weekly post of a channel covers other days."""
    return f"digest · {covered}"


def part_footer(marker: str, part: int, parts: int) -> str:
    """The footer that tells a restarted bot which part of which post a message is, worded for the
    reader too: ``digest 2026-07-30`` for a one-message post, ``digest 2026-07-30 · 2 of 3`` else."""
    return marker if parts == 1 else f"{marker} · {part} of {parts}"


def parse_part(footer: str, marker: str) -> int | None:
    """The part number in a footer written by :func:`part_footer` with ``marker``.

    Tolerant of the footer's wording ("digest 2026-07-30 · part 2/3", "… 2/3", "… · part 2 of 3")
    so that messages posted by an older or newer paperbot are still recognised after an upgrade."""
    found = re.search(re.escape(marker) + r"(?![\w-])\W*?(?:part\s*)?(\d+)\s*(?:/|of)\s*\d+", footer)
    if found:
        return int(found.group(1))
    # A one-message post carries the marker alone: it is part 1 (of 1).
    return 1 if re.search(re.escape(marker) + r"\s*$", footer) else None


def entry(rank: int, paper: Paper) -> str:
    title = escape_within(paper.title, 200)
    heading = f"**{rank}. {md_link(title, paper.url)}**"
    votes = f"▲ {paper.upvotes}" if paper.upvotes is not None else ""
    meta = byline(escape(short_authors(paper.authors, limit=120)), votes)
    summary = escape_within(clean_line(paper.ai_summary or paper.abstract), 220)
    return "\n".join(line for line in (heading, meta, summary) if line)


def plan_digest(
    post_day: date,
    list_date: date | None,
    papers: Sequence[Paper],
    *,
    source: str,
    max_papers: int,
    note: str | None = None,
) -> DigestPlan:
    """The messages of one post. With no papers, a header with ``note`` only."""
    chosen = list(papers[:max_papers])
    label = SOURCE_LABELS.get(source, source)
    lines = [f"{plural(len(chosen), 'paper')} from {label}"]
    if len(papers) > len(chosen):
        lines[0] += f" (top {len(chosen)} of {len(papers)})"
    if note:
        lines.append(note)
    shown_day = list_date or post_day
    header = EmbedSpec(
        title=f"📚 Daily papers · {shown_day.strftime('%A %d %B %Y')}",
        description="\n".join(lines),
    )
    entries = [entry(rank, paper) for rank, paper in enumerate(chosen, 1)]
    embeds = [
        header,
        *pack_entries(entries, keys=[paper.id for paper in chosen], saves=[paper_ref(p) for p in chosen]),
    ]
    messages = pack_messages(embeds, digest_marker(post_day))
    return DigestPlan(post_day, list_date, messages, len(chosen))


def paper_ref(paper: Paper) -> PaperRef:
    return (paper.id, paper.title)


def pack_entries(
    entries: Iterable[str],
    budget: int = DESCRIPTION_BUDGET,
    *,
    keys: Sequence[str] | None = None,
    saves: Sequence[PaperRef] | None = None,
) -> list[EmbedSpec]:
    """Entries (in order, blank-line separated) in as few embed descriptions of ``budget`` as fit;
    ``keys``: the paper behind each entry, remembered per embed (what a frozen plan delivers);
    ``saves``: the same papers as a Save menu under the message offers them."""
    embeds: list[EmbedSpec] = []
    current: list[str] = []
    current_keys: list[str] = []
    current_saves: list[PaperRef] = []

    def close() -> None:
        text = "\n\n".join(current)
        embeds.append(EmbedSpec(description=text, papers=tuple(current_keys), saves=tuple(current_saves)))

    for index, text in enumerate(entries):
        if current and len("\n\n".join([*current, text])) > budget:
            close()
            current, current_keys, current_saves = [], [], []
        current.append(text)
        if keys is not None:
            current_keys.append(keys[index])
        if saves is not None:
            current_saves.append(saves[index])
    if current:
        close()
    return embeds


def pack_messages(embeds: list[EmbedSpec], marker: str) -> tuple[DigestMessage, ...]:
    """Embeds grouped into messages within Discord's limits; each message's first embed gets
    the ``marker`` footer a restarted bot looks for."""
    groups: list[list[EmbedSpec]] = [[]]
    footer_room = len(part_footer(marker, 99, 99))
    for embed in embeds:
        group = groups[-1]
        used = sum(e.size() for e in group) + footer_room
        if group and (len(group) >= EMBEDS_PER_MESSAGE or used + embed.size() > MESSAGE_BUDGET):
            groups.append([])
        groups[-1].append(embed)
    parts = len(groups)
    messages = []
    for number, group in enumerate(groups, 1):
        first = group[0]
        tagged = replace(first, footer=part_footer(marker, number, parts))
        messages.append(DigestMessage((tagged, *group[1:])))
    return tuple(messages)
