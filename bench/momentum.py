"""Momentum figures: disk taken by snapshots of five years of lists; /papers top and rising latency."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from bench.cache import CACHE, ingest, size_mb
from bench.cache import database as cached_database
from bench.corpus import generate
from bot.domain.models import DAILY_LIST_SOURCES, ListedPaper, Paper, Signals, Source
from bot.domain.momentum import Period
from bot.services.momentum import MomentumService
from bot.storage.database import Database
from bot.storage.momentum import MomentumRepository
from bot.storage.repositories import Repositories
from bot.storage.signals import record_signals

# How a latency is measured and printed: (label, n, inputs, call) -> None.
Measure = Callable[[str, int, list[str], Callable[[str], Awaitable[object]]], Awaitable[None]]


async def snapshot_size(per_day: int, years: int, snapshots: int) -> None:
    """Five years of lists, each paper snapshotted once a day for ``snapshots`` days."""
    path = CACHE / f"momentum-{per_day}x{years}y.db"
    days = 365 * years + years // 4
    n = per_day * days
    await ingest(n, path, Source.HF_API, per_day)
    database = await Database.open(path)
    before = size_mb(path)
    started = time.perf_counter()
    rng = random.Random(5)
    # The store was made by ingesting exactly these papers, in this order: the i-th is row pk i + 1.
    papers = [(pk, item.list_date) for pk, item in enumerate(generate(n, per_day=per_day), 1)]
    moment = datetime(2024, 1, 1, 8, tzinfo=UTC)
    for day in range(days + snapshots - 1):
        live = papers[max(0, (day - snapshots + 1) * per_day) : (day + 1) * per_day]
        rows = [
            (
                ListedPaper(
                    Paper("t", "a", "synthetic"),
                    None,
                    None,
                    Signals(rng.randint(0, 500), rng.randint(0, 40), rng.randint(0, 5000)),
                ),
                pk,
            )
            for pk, _ in live
        ]
        async with database.transaction():
            await record_signals(database.connection, rows, moment + timedelta(days=day))
    written = time.perf_counter() - started
    count = await MomentumRepository(database.connection).snapshot_count()
    await database.writer.execute("VACUUM")
    await database.close()
    grown = size_mb(path) - before
    print(
        f"momentum snapshots: {n:,} listed papers over {days:,} days x {snapshots} daily snapshots = "
        f"{count:,} rows: +{grown:,.0f} MB on disk "
        f"({grown * 1e6 / max(1, count):.1f} B/row, target < 200 MB); "
        f"written in {written:.0f} s"
    )


async def ranking_latency(n: int, queries: int, latency: Measure) -> None:
    path = await cached_database(n, Source.HF_API)
    database = await Database.open(path)
    repositories = Repositories.of(database)
    latest = await repositories.papers.latest_list_date(DAILY_LIST_SOURCES)
    assert latest is not None
    # Thirty days of snapshots for the month being ranked (twice a day), as the refresh records them.
    recent = await repositories.momentum.list_days(DAILY_LIST_SOURCES, limit=60)
    rng = random.Random(3)
    async with database.transaction():
        for day in recent:
            stored = await repositories.papers.listing(day, DAILY_LIST_SOURCES)
            for fetch in range(2):
                moment = datetime(latest.year, latest.month, latest.day, 8 + 12 * fetch, tzinfo=UTC)
                moment -= timedelta(days=(latest - day).days % 30)
                rows = [(ListedPaper(s.paper, day, None, Signals(rng.randint(0, 500))), s.pk) for s in stored]
                await record_signals(database.connection, rows, moment)
    now = datetime(latest.year, latest.month, latest.day, 21, tzinfo=UTC)
    service = MomentumService(
        repositories.momentum, repositories.papers, clock=lambda: now, votes=repositories.votes
    )
    await latency("top month", n, ["month"] * queries, lambda _: service.top(Period.MONTH, latest))
    await latency("top week", n, ["week"] * queries, lambda _: service.top(Period.WEEK, latest))
    await latency("rising", n, ["rising"] * queries, lambda _: service.rising())
    await database.close()
