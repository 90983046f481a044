"""What a follow-alert DM says: each matched paper once, with the member's keywords that matched."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.digest import DigestMessage, EmbedSpec, pack_entries, pack_messages
from bot.domain.layout import escape, one_line, plural, short_authors, truncate
from bot.domain.models import Paper


def alert_footer(batch_id: int, part: int, parts: int) -> str:
    return f"alerts #{batch_id} · part {part}/{parts}"


def parse_alert_part(footer: str, batch_id: int) -> int | None:
    prefix = f"alerts #{batch_id} · part "
    if not footer.startswith(prefix):
        return None
    number = footer[len(prefix) :].split("/", 1)[0]
    return int(number) if number.isdigit() else None


def alert_entry(paper: Paper, keywords: Sequence[str]) -> str:
    title = escape(truncate(paper.title, 200))
    heading = f"**[{title}](<{paper.url}>)**" if paper.url else f"**{title}**"
    matched = ", ".join(f"`{truncate(k, 60).replace('`', '')}`" for k in keywords)
    authors = escape(short_authors(paper.authors, limit=100))
    summary = escape(one_line(paper.ai_summary or paper.abstract, 160))
    return "\n".join(line for line in (heading, authors, f"Matched {matched}", summary) if line)


def plan_alert(batch_id: int, items: Sequence[tuple[Paper, Sequence[str]]]) -> tuple[DigestMessage, ...]:
    count = len(items)
    header = EmbedSpec(
        title="🔔 New papers for what you follow",
        description=f"{plural(count, 'new paper')} matched your keywords. "
        "Manage them with /follow list, /follow pause or /follow remove.",
    )
    embeds = [header, *pack_entries(alert_entry(paper, keywords) for paper, keywords in items)]
    return pack_messages(embeds, lambda part, parts: alert_footer(batch_id, part, parts))
