"""What a weekly picks DM says: one message, its footer carrying the week's marker so a resumed
delivery can find it among the member's DMs (``digest.parse_part``). No Discord types."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.digest import DigestMessage, EmbedSpec, paper_ref
from bot.domain.layout import escape_within, md_link
from bot.domain.models import Paper

WEEKLY_TITLE = "🧭 Your weekly picks"
FOOTER = "New papers of the last 7 days, closest to what you saved · /library digest off to stop these"


def picks_marker(week: str) -> str:
    """The footer's last words (``weekly picks 2026-W31``): which week's DM a message is."""
    return f"weekly picks {week}"


def picks_text(picks: Sequence[tuple[Paper, str]]) -> str:
    """``picks`` (a new paper, the title of the saved paper it is like), best first, one numbered
    entry each with its reason: the weekly DM and `/library picks` list them alike."""
    return "\n\n".join(
        f"**{rank}.** {md_link(escape_within(paper.title, 180), paper.url)}\n"
        f"like “{escape_within(like, 150)}”"
        for rank, (paper, like) in enumerate(picks, 1)
    )


def plan_weekly_picks(week: str, picks: Sequence[tuple[Paper, str]]) -> DigestMessage:
    """The DM of ``picks``, best first."""
    embed = EmbedSpec(
        title=WEEKLY_TITLE,
        description=picks_text(picks),
        footer=f"{FOOTER} · {picks_marker(week)}",
        papers=tuple(paper.id for paper, _ in picks),
        saves=tuple(paper_ref(paper) for paper, _ in picks),
    )
    return DigestMessage((embed,))
