"""Delivery states of digests and alerts: the ledgers' vocabulary, checked by mypy instead of comments."""

from __future__ import annotations

from enum import StrEnum


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
    SENT = "sent"  # every part delivered
    CLOSED = "closed"  # stopped part-way: delivered papers kept, the rest back in the queue
