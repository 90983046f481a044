"""What an alert DM says: each paper once, with the member's follows it matched and, for a paper
in their library, what changed since they saved it (a new arXiv version, code released)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.digest import DigestMessage, EmbedSpec, pack_entries, pack_messages, paper_ref
from bot.domain.layout import escape, escape_within, md_link, plural, short_authors, truncate
from bot.domain.models import Paper
from bot.domain.text import clean_line


def alert_marker(batch_id: int) -> str:
    """What the footers of a DM batch's messages start with (see ``digest.part_footer``)."""
    return f"alerts #{batch_id}"


CODE_RELEASED = "code"  # the change recorded when a saved paper gains a code link


@dataclass(frozen=True, slots=True)
class AlertItem:
    key: str  # what the batch records as delivered (the paper's pk)
    paper: Paper
    keywords: Sequence[str] = ()  # the member's follows it matched
    changes: Sequence[str] = ()  # saved paper: "v3" (new arXiv version 3), "code"


def version_change(version: int) -> str:
    return f"v{version}"


def change_reason(change: str, paper: Paper) -> str:
    """Why a saved paper is in the DM: ``new version v3``, ``code released`` (linked)."""
    if change == CODE_RELEASED:
        return md_link("code released", paper.code_url)
    return f"new version {change}" if change.startswith("v") and change[1:].isdigit() else "updated"


def alert_entry(paper: Paper, keywords: Sequence[str], changes: Sequence[str] = ()) -> str:
    title = escape_within(paper.title, 200)
    heading = f"**{md_link(title, paper.url)}**"
    matched = ", ".join(f"`{truncate(k, 60).replace('`', '')}`" for k in keywords)
    saved = ", ".join(change_reason(change, paper) for change in changes)
    authors = escape(short_authors(paper.authors, limit=100))
    summary = escape_within(clean_line(paper.ai_summary or paper.abstract), 160)
    lines = (
        heading,
        authors,
        f"Matched {matched}" if matched else "",
        f"📚 In your library: {saved}" if saved else "",
        summary,
    )
    return "\n".join(line for line in lines if line)


def plan_alert(batch_id: int, items: Sequence[AlertItem]) -> tuple[DigestMessage, ...]:
    """The DM parts of a batch, its ``items`` in order."""
    matched = sum(1 for item in items if item.keywords)
    updated = sum(1 for item in items if item.changes)
    said = []
    if matched:
        said.append(f"{plural(matched, 'new paper')} matched what you follow")
    if updated:
        said.append(f"{plural(updated, 'paper')} you saved changed")
    header = EmbedSpec(
        title="🔔 New papers for what you follow" if matched else "🔔 Papers you saved changed",
        description=" · ".join(said) + ". Manage them with /follow list, /follow pause or /follow remove.",
    )
    entries = [alert_entry(item.paper, item.keywords, item.changes) for item in items]
    keys = [item.key for item in items]
    embeds = [header, *pack_entries(entries, keys=keys, saves=[paper_ref(item.paper) for item in items])]
    return pack_messages(embeds, alert_marker(batch_id))
