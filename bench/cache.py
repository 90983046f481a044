"""Seeded corpora built once and cached under bench/.cache/, so a measurement never pays for set-up."""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path

from bench.corpus import generate
from bot.domain.models import Source
from bot.services.papers import PaperService
from bot.storage.database import Database
from bot.storage.index_merge import merge_indexes
from bot.storage.store import open_store

CACHE = Path(__file__).parent / ".cache"


def rss_mb() -> float:
    """Current resident set size (Linux /proc), in MB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6


async def ingest(
    n: int,
    path: Path | str,
    source: str = Source.SYNTHETIC,
    per_day: int = 50,
    server_cpu: Callable[[], float | None] | None = None,
) -> None:
    """Ingest ``generate(n)`` into a new SQLite file at ``path`` or the (emptied) PostgreSQL
    database at a postgresql:// URL, and print papers/s (``server_cpu``: the database server's CPU
    seconds so far, printed beside the bench process's: on PostgreSQL half the work is the server's)."""
    if isinstance(path, Path):
        for old in path.parent.glob(path.name + "*"):
            old.unlink()
    started = time.perf_counter()
    papers = list(generate(n, source=source, per_day=per_day))
    generated = time.perf_counter()
    database = await open_store(path)
    service = PaperService(database)
    cpu_before = cpu_seconds()
    # The event loop's thread apart: the rows are made there (a PostgreSQL COPY's inside its
    # stream), beside the word-count and SQLite threads the process total also holds.
    loop_cpu_before = time.thread_time()
    server_before = server_cpu() if server_cpu else None
    counts = await service.ingest(papers)
    stored = time.perf_counter()
    cpu = cpu_seconds() - cpu_before
    loop_cpu = time.thread_time() - loop_cpu_before
    server_after = server_cpu() if server_cpu else None
    await database.close()
    rate = n / (stored - generated)
    size = f"DB {size_mb(path):,.0f} MB" if isinstance(path, Path) else "PostgreSQL"
    print(
        f"ingest n={n:,}: {rate:,.0f} papers/s ({stored - generated:.1f} s; corpus generation "
        f"{generated - started:.1f} s not counted), {counts.new:,} new, {size}; "
        f"CPU {cpu:.1f} s ({n / cpu:,.0f} papers per CPU second: steadier than wall time on a busy machine), "
        f"{loop_cpu:.1f} s of it on the event loop's thread ({loop_cpu / n * 1e6:,.0f} us a paper)"
    )
    if isinstance(path, Path):
        await merge_as_the_bot_does(path)
    if server_before is not None and server_after is not None:
        server = server_after - server_before
        print(
            f"  server CPU {server:.1f} s ({server / n * 1e6:,.0f} us a paper; the bench process "
            f"{cpu / n * 1e6:,.0f} us): the two overlap, so wall time per paper can be below their sum"
        )


async def merge_as_the_bot_does(path: Path) -> None:
    """Merge the store's full-text indexes as a running bot does after an ingest (its background
    merge, bot.storage.index_merge), so benches measure the store a bot serves; the cost is printed,
    apart from any timed figure (the CLI ingest leaves it to the bot)."""
    database = await Database.open(path)
    try:
        merged = await merge_indexes(database)
    finally:
        await database.close()
    if merged.merged_any:
        print(
            f"  then the running bot's background merge: {merged.describe()}, CPU {merged.cpu_seconds:.1f} s "
            "(not in any figure above: the bot does it later, in steps beside serving)"
        )


def cpu_seconds() -> float:
    """CPU time of this process, all threads (SQLite works on aiosqlite's), user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def database(n: int, source: str = Source.SYNTHETIC) -> Path:
    """The cached database of ``generate(n)`` (built on first use), listed by ``source`` (hf-api: the
    daily list that /papers top ranks)."""
    path = CACHE / (f"papers-{n}.db" if source == Source.SYNTHETIC else f"papers-{n}-{source}.db")
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        await ingest(n, path, source)
    else:  # a store built before the bot merged its indexes: as the bot would find and merge it
        await merge_as_the_bot_does(path)
    return path


def hf_api_file(n: int, *, after: int) -> Path:
    """A Hugging Face API JSON file of ``n`` new papers (none among the first ``after``), for a CLI ingest."""
    path = CACHE / f"hf-api-{n}-after-{after}.json"
    if path.exists():
        return path
    CACHE.mkdir(exist_ok=True)
    items = []
    for listed in generate(n, seed=31, first=after):
        paper = listed.paper
        items.append(
            {
                "paper": {
                    "id": paper.arxiv_id,
                    "title": paper.title,
                    "summary": paper.abstract,
                    "authors": [{"name": name} for name in paper.authors],
                    "publishedAt": f"{paper.published.isoformat()}T00:00:00.000Z",
                    "upvotes": paper.upvotes,
                },
                "publishedAt": f"{listed.list_date.isoformat()}T00:00:00.000Z",
            }
        )
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(items))
    partial.rename(path)
    return path
