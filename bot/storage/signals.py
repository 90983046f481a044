"""Writing momentum snapshots: a paper's counts each time a list holding it is ingested."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bot.domain.models import ListedPaper
from bot.storage.connection import Connection


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def from_unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def record_signals(db: Connection, listings: Sequence[tuple[ListedPaper, int]], now: datetime) -> None:
    """One snapshot per listed paper that came with counts, by the stored paper's pk (inside the
    ingest's transaction). The same paper twice in one fetch keeps the later counts."""
    taken_at = unix(now)
    rows = [
        (pk, taken_at, item.signals.upvotes, item.signals.comments, item.signals.stars)
        for item, pk in listings
        if item.signals is not None
    ]
    if rows:
        await db.executemany(
            "INSERT INTO paper_signals (paper_pk, taken_at, upvotes, comments, stars) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (paper_pk, taken_at) DO UPDATE SET upvotes = excluded.upvotes, "
            "comments = excluded.comments, stars = excluded.stars",
            rows,
        )
