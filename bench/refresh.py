"""``python -m bench refresh``: what a running bot pays to catch up after each batch another process
(a CLI ingest) commits: the incremental refresh (read and apply the changed title words) beside a
full rebuild of the vocabulary (what the bot did before), in CPU time of the event loop's thread
and of the whole process (steady on a shared machine), and the longest the loop went without a turn.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench import cache
from bench.cache import cpu_seconds
from bench.corpus import generate
from bot.services.papers import PaperService
from bot.storage.database import Database

TICK = 0.001  # the loop-turn probe's period


async def _measured(work: Callable[[], Awaitable[object]]) -> tuple[float, float, float]:
    """(event-loop thread CPU, process CPU, longest gap between loop turns) of ``work``, in ms."""
    loop = asyncio.get_running_loop()
    longest = 0.0
    done = asyncio.Event()

    async def probe() -> None:
        nonlocal longest
        last = loop.time()
        while not done.is_set():
            await asyncio.sleep(TICK)
            now = loop.time()
            longest = max(longest, now - last - TICK)
            last = now

    ticker = asyncio.create_task(probe())
    await asyncio.sleep(0)
    loop_cpu, process_cpu = time.thread_time(), cpu_seconds()
    await work()
    loop_cpu, process_cpu = time.thread_time() - loop_cpu, cpu_seconds() - process_cpu
    done.set()
    await ticker
    return loop_cpu * 1000, process_cpu * 1000, longest * 1000


async def run(n: int, batches: int, batch_papers: int) -> None:
    source = await cache.database(n)
    folder = Path(tempfile.mkdtemp(prefix="refresh-", dir=cache.CACHE))
    path = folder / "bot.db"
    shutil.copy(source, path)
    bot_db, cli_db = await Database.open(path), await Database.open(path)
    try:
        bot, cli = PaperService(bot_db), PaperService(cli_db)
        await bot.start()
        words = len(bot.search.vocabulary)
        new = list(generate(batches * batch_papers, seed=41, first=n))
        incremental: list[tuple[float, float, float]] = []
        full: list[tuple[float, float, float]] = []
        for number in range(batches):
            await cli.ingest(new[number * batch_papers : (number + 1) * batch_papers])
            incremental.append(await _measured(bot.refresh_if_changed))
            full.append(await _measured(bot.search.refresh))  # the old way, same store, same moment
    finally:
        await bot_db.close()
        await cli_db.close()
        shutil.rmtree(folder)
    print(
        f"refresh after each of {batches} CLI batches of {batch_papers:,} papers over {n:,} "
        f"({words:,} title words at the start), median [max]:"
    )
    for label, runs in (("incremental (now)", incremental), ("full rebuild (before)", full)):
        loop_cpu, process_cpu, gap = (list(column) for column in zip(*runs, strict=True))
        print(
            f"  {label:22s} event-loop CPU {statistics.median(loop_cpu):6.1f} [{max(loop_cpu):6.1f}] ms, "
            f"process CPU {statistics.median(process_cpu):6.1f} [{max(process_cpu):6.1f}] ms, "
            f"longest loop gap {statistics.median(gap):6.1f} [{max(gap):6.1f}] ms"
        )
