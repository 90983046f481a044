"""What a follow-alert DM says: each matched paper once, with the member's keywords that matched."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.digest import DigestMessage, EmbedSpec, pack_entries, pack_messages, paper_ref
from bot.domain.layout import escape, md_link, one_line, plural, short_authors, truncate
from bot.domain.models import Paper


def alert_marker(batch_id: int) -> str:
    """What the footers of a DM batch's messages start with (see ``digest.part_footer``)."""
    return f"alerts #{batch_id}"


def alert_entry(paper: Paper, keywords: Sequence[str]) -> str:
    title = escape(truncate(paper.title, 200))
    heading = f"**{md_link(title, paper.url)}**"
    matched = ", ".join(f"`{truncate(k, 60).replace('`', '')}`" for k in keywords)
    authors = escape(short_authors(paper.authors, limit=100))
    summary = escape(one_line(paper.ai_summary or paper.abstract, 160))
    return "\n".join(line for line in (heading, authors, f"Matched {matched}", summary) if line)


def plan_alert(batch_id: int, items: Sequence[tuple[str, Paper, Sequence[str]]]) -> tuple[DigestMessage, ...]:
    """The DM parts of a batch; ``items``: (alert key, paper, matched keywords), in order."""
    count = len(items)
    header = EmbedSpec(
        title="🔔 New papers for what you follow",
        description=f"{plural(count, 'new paper')} matched your keywords. "
        "Manage them with /follow list, /follow pause or /follow remove.",
    )
    entries = [alert_entry(paper, keywords) for _, paper, keywords in items]
    keys = [key for key, _, _ in items]
    embeds = [header, *pack_entries(entries, keys=keys, saves=[paper_ref(paper) for _, paper, _ in items])]
    return pack_messages(embeds, alert_marker(batch_id))
