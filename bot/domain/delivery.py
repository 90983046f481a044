"""Delivery states of digests and alerts: the ledgers' vocabulary, checked by mypy instead of comments."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from enum import StrEnum

NONCE_LIMIT = 25  # Discord's longest message nonce
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


class PostState(StrEnum):
    """A digest ledger row (one per server and local day)."""

    CLAIMED = "claimed"  # planned and being sent (or interrupted: resumed once its lease expires)
    POSTED = "posted"
    SKIPPED = "skipped"  # nothing to post (no note wanted)
    FAILED = "failed"  # the channel is unusable; the server's digest is paused


class Outcome(StrEnum):
    """What one attempt to post a digest came to."""

    POSTED = "posted"
    SKIPPED = "skipped"
    ALREADY = "already"  # posted (or skipped) before
    FAILED = "failed"
    ELSEWHERE = "elsewhere"  # another process holds a live lease on it and is sending it


class AlertState(StrEnum):
    """One (member, paper) alert."""

    PENDING = "pending"
    SENDING = "sending"  # in a batch being sent
    SENT = "sent"
    DROPPED = "dropped"  # the member shares no server with the bot any more


class BatchState(StrEnum):
    """A DM batch delivering some alerts."""

    SENDING = "sending"
    SENT = "sent"  # closed: its delivered alerts are sent, any others went back to the queue


def _base36(number: int, width: int) -> str:
    digits = ""
    while number:
        number, digit = divmod(number, 36)
        digits = _DIGITS[digit] + digits
    return digits.rjust(width, "0")


def digest_nonce(
    channel_id: int, post_day: date, part: int, *, weekly: bool = False, claimed_at: datetime | None = None
) -> str:
    """The same for the same part of the same post: Discord keeps one message however often it is
    sent within its nonce window (``enforce_nonce``). Fixed widths, so no two posts collide: each
    channel has its own (one digest per channel), and a weekly post (keyed by its week's Monday)
    has its own letter, so it never shares a nonce with the daily post of that Monday.
    ``claimed_at`` (the claim's minute, frozen with it): after a change of time zone two posts of a
    channel can carry the same day minutes apart (00:58 Berlin on the 28th, then 00:00 UTC on
    the 28th), and Discord would answer the second with the first. 24 characters (20 without),
    within Discord's 25."""
    kind = "w" if weekly else "d"
    nonce = f"{kind}{_base36(channel_id, 13)}{_base36(post_day.toordinal(), 4)}{_base36(part, 2)}"
    if claimed_at is None:
        return nonce
    minute = int(claimed_at.timestamp()) // 60 % 36**4  # unique over three years
    return nonce + _base36(minute, 4)


def alert_nonce(batch_id: int, part: int) -> str:
    """As ``digest_nonce``, for a DM batch's part (batch ids never repeat)."""
    return f"a{_base36(batch_id, 13)}{_base36(part, 2)}"


class PicksState(StrEnum):
    """A member's weekly picks DM of one week."""

    SENDING = "sending"  # claimed, leased, not yet recorded as delivered
    SENT = "sent"
    UNREACHABLE = "unreachable"  # Discord refused the DM (closed DMs, a block): not retried that week
    GAVE_UP = "gave_up"  # Discord kept failing through every backed-off attempt


def notice_nonce(batch_id: int, part: int) -> str:
    """As ``alert_nonce``, for a part of a grouped missed-day notice (batch ids never repeat; the
    letter keeps them apart from alert batches of the same id). 16 characters, within Discord's 25."""
    return f"g{_base36(batch_id, 13)}{_base36(part, 2)}"


def picks_nonce(user_id: int, week_monday: date, plan: str) -> str:
    """As ``digest_nonce``, for a member's weekly picks DM (keyed by the week's Monday and its
    frozen ``plan``). Member and week alone are not enough: a member who runs /privacy forget and
    turns picks back on is sent a second, different DM that week, which under the same nonce
    Discord would drop as a repeat of the first. The plan's digest tells them apart while every
    attempt at one DM keeps one nonce. 25 characters, Discord's most."""
    digest = int.from_bytes(hashlib.blake2b(plan.encode(), digest_size=8).digest(), "big")
    return f"p{_base36(user_id, 13)}{_base36(week_monday.toordinal(), 4)}{_base36(digest % 36**7, 7)}"
