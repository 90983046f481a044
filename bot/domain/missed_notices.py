"""What the grouped notice of digest days not posted says, split to fit Discord's limits. No
Discord types.

One admin hears about every digest of theirs and every day it missed in one message (a week offline
with 10 digests used to be 70 DMs): a block per digest (server, channel, the days grouped by why)
and what they can do, at the end. A list too long for one message goes out in as few messages as
the limits need (4,096 characters an embed, 10 embeds and 6,000 characters a message); each
message's first footer carries the batch's marker (``missed digests #12 · 1 of 2``) so a resumed
send finds the parts that arrived. Each embed names the notices it tells (in ``papers``, as a
digest's embeds name their papers), so a part recorded as sent records exactly those notices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from bot.domain.digest import DESCRIPTION_BUDGET, DigestMessage, EmbedSpec, pack_messages
from bot.domain.layout import escape, plural, truncate
from bot.domain.schedule import Cadence, LedgerKey

SINGLE_TITLE = "📭 A digest was not posted"
# A reason is Discord's or our own sentence; cut so a block of one digest always fits an embed.
REASON_LIMIT = 300
DAYS_PER_LINE = 31


@dataclass(frozen=True, slots=True)
class MissedNotice:
    """One period of one digest that was not posted, to be told."""

    key: LedgerKey
    post_day: date
    reason: str

    @property
    def token(self) -> str:
        """How a frozen plan names this notice (stable text: the ledger key and the period)."""
        return notice_token(self.key, self.post_day)


def notice_token(key: LedgerKey, post_day: date) -> str:
    return f"{key.guild_id}:{key.channel_id}:{key.cadence.value}:{post_day.isoformat()}"


def parse_token(token: str) -> tuple[LedgerKey, date]:
    guild_id, channel_id, cadence, day = token.split(":")
    return LedgerKey(int(guild_id), int(channel_id), Cadence(cadence)), date.fromisoformat(day)


def notices_marker(batch_id: int) -> str:
    """The footer's marker of a grouped notice (batch ids never repeat)."""
    return f"missed digests #{batch_id}"


def _period(notice: MissedNotice) -> str:
    if notice.key.cadence is Cadence.WEEKLY:
        return f"the week of {notice.post_day:%a %d %b %Y}"
    return f"{notice.post_day:%a %d %b %Y}"


@dataclass(frozen=True, slots=True)
class _Line:
    text: str
    tokens: tuple[str, ...]  # the notices this line tells
    heading: str | None = None  # its digest's heading, repeated when an embed starts mid-block


def _block(
    notices: Sequence[MissedNotice], *, in_channel: bool, server: str | None, paused: bool
) -> list[_Line]:
    """One digest's days not posted: a heading, then the days grouped by why (oldest first)."""
    key = notices[0].key
    weekly = " (weekly)" if key.cadence is Cadence.WEEKLY else ""
    if in_channel:
        heading = f"**The digest{weekly} here was not posted:**"
    else:
        where = f"**{escape(truncate(server, 100))}** · " if server else ""
        heading = f"{where}<#{key.channel_id}>{weekly}:"
    lines = [_Line(heading, ())]
    by_reason: dict[str, list[MissedNotice]] = {}
    for notice in sorted(notices, key=lambda n: n.post_day):
        by_reason.setdefault(notice.reason.strip().rstrip("."), []).append(notice)
    for reason, days in by_reason.items():
        for start in range(0, len(days), DAYS_PER_LINE):  # a line always fits an embed
            some = days[start : start + DAYS_PER_LINE]
            periods = ", ".join(_period(n) for n in some)
            lines.append(
                _Line(
                    f"• {periods}: {truncate(reason, REASON_LIMIT)}.", tuple(n.token for n in some), heading
                )
            )
    if paused:
        lines.append(_Line("  It is paused until that is fixed: then `/digest resume`.", (), heading))
    return lines


def _guidance(*, in_channel: bool) -> str:
    lines = [
        "**What you can do:** the next posts go out at their times; `/digest show` lists the days "
        "not posted and why; `/digest post-now` in a digest's channel posts today's list now."
    ]
    if in_channel:
        lines.append("(Said here because the admin who set this digest up cannot be sent DMs.)")
    return "\n".join(lines)


def _title(notices: Sequence[MissedNotice]) -> str:
    digests = len({n.key for n in notices})
    if len(notices) == 1:
        return SINGLE_TITLE
    if digests == 1:
        return f"📭 A digest was not posted on {len(notices)} days"
    return f"📭 {digests} digests were not posted: {plural(len(notices), 'day')} in all"


def _chunks(lines: Sequence[_Line], budget: int) -> list[list[_Line]]:
    """Lines into descriptions of at most ``budget`` characters, never splitting a line; a digest's
    days continued in the next embed (or message) come under its heading again."""
    chunks: list[list[_Line]] = [[]]
    used = 0
    for line in lines:
        size = len(line.text) + 1
        if chunks[-1] and used + size > budget:
            chunks.append([])
            used = 0
            if line.heading is not None:
                chunks[-1].append(_Line(line.heading, ()))
                used += len(line.heading) + 1
        chunks[-1].append(line)
        used += size
    return chunks


def plan_notices(
    batch_id: int,
    notices: Sequence[MissedNotice],
    *,
    in_channel: bool,
    server_name: Callable[[int], str | None] = lambda guild_id: None,
    paused: Callable[[LedgerKey], bool] = lambda key: False,
) -> tuple[DigestMessage, ...]:
    """The grouped notice of ``notices`` (one admin's, or one channel's): as few messages as fit."""
    by_digest: dict[LedgerKey, list[MissedNotice]] = {}
    for notice in sorted(notices, key=lambda n: (n.key.guild_id, n.key.channel_id, n.key.cadence.value)):
        by_digest.setdefault(notice.key, []).append(notice)
    lines: list[_Line] = []
    for key, days in by_digest.items():
        if lines:
            lines.append(_Line("", ()))
        lines.extend(
            _block(days, in_channel=in_channel, server=server_name(key.guild_id), paused=paused(key))
        )
    lines.append(_Line("", ()))
    lines.append(_Line(_guidance(in_channel=in_channel), ()))
    embeds = []
    for number, chunk in enumerate(_chunks(lines, DESCRIPTION_BUDGET)):
        description = "\n".join(line.text for line in chunk).strip("\n")
        tokens = tuple(token for line in chunk for token in line.tokens)
        embeds.append(EmbedSpec(description, title=_title(notices) if number == 0 else None, papers=tokens))
    return pack_messages(embeds, notices_marker(batch_id))
