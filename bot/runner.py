"""Running the Discord bot: resources opened here and passed in (discord.py's advanced_startup pattern)."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime

import aiohttp

from bot.client import PaperBot, use_endpoints
from bot.errors import StorageUnavailable
from bot.health import FetchOutcome, write_heartbeat
from bot.health import utcnow as health_now
from bot.loop_watch import LoopWatch
from bot.repeating_failure import RepeatingFailures, describe
from bot.services.container import Services, open_services
from bot.services.shard_claims import RENEW_EVERY, ShardClaims, unrun_warning
from bot.settings import Settings

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)
MALLOC_ARENAS = 2  # the event loop's and one the reader threads share
# Python's default collects the young generation every 700 allocations: ~17 collections a second
# at 300 interactions/s, each promoting the objects of interactions still in flight, so older
# generations filled and were walked too (in A/B runs of `bench load --rate 300 --duration 30`,
# 2.2 s of collection in 30 s). Every 10,000: ~0.7 a second, 0.6 s in all, and the bot served
# twice as many interactions in time on the same machine (docs/performance.md, fifth session).
COLLECTION_THRESHOLDS = (10_000, 10, 10)

# What `docker stop`, systemd and Ctrl-C send; both stop the bot cleanly (deploy/ relies on it).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextlib.contextmanager
def stop_signals(stop: asyncio.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set ``stop`` while the bot runs; the serving code decides how to stop."""
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    try:
        yield
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)


async def run_bot(settings: Settings) -> None:
    """Connect and serve until SIGINT/SIGTERM; then close the bot and the database cleanly."""
    assert settings.discord_token is not None
    limit_malloc_arenas()
    use_endpoints(settings.discord_api_base, settings.discord_gateway_url)
    # A stalled loop misses heartbeats and every interaction's 3 s at once: log each stall and where.
    watch = LoopWatch()
    watch.start()
    # Heard from the start: a stop while the store opens is a stop as soon as it is open.
    stop = asyncio.Event()
    try:
        with stop_signals(stop):
            async with (
                aiohttp.ClientSession() as session,
                open_services(settings, session=session) as services,
            ):
                # Before connecting: a process on another's shards would answer its commands twice.
                await services.shards.claim()
                try:
                    await _serve(services, settings, stop)
                finally:
                    await services.shards.release()
    finally:
        watch.stop(summary=True)
        log.info("stopped: database closed")


async def _serve(services: Services, settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run the bot until it ends by itself (its error, if any, raised) or ``stop`` is set."""
    assert settings.discord_token is not None
    stop = stop or asyncio.Event()
    async with PaperBot(services=services, settings=settings) as bot:
        beating = asyncio.create_task(_heartbeats(bot, services, settings))
        keeping = asyncio.create_task(keep_shards(bot, services.shards, services.measure_clock))
        tending = asyncio.create_task(_tend_indexes(services, settings))
        freeze_startup_heap()
        serving = asyncio.create_task(bot.start(settings.discord_token.get_secret_value()))
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait((serving, stopping), return_when=asyncio.FIRST_COMPLETED)
            if serving.done():
                await serving  # ended by itself: its error, if any, is the process's
            else:
                await _stop(bot, serving)
        finally:
            for task in (stopping, beating, keeping, tending):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await _beat(bot, services, settings, stopped=True)


async def _stop(bot: PaperBot, serving: asyncio.Task[None]) -> None:
    """Stop the bot at whatever step of logging in, connecting or serving it is in.

    Both halves are needed. ``close()`` alone, while a shard still connects, closes the HTTP
    session under it, and discord.py retries a shard's failed connection every 5 s for ever
    ("Session is closed"): the process never ended. A cancel alone is swallowed where a shard
    re-identifies or resumes (discord.py's ``Shard.reidentify`` returns on CancelledError) and the
    bot serves on. Cancelled, a connecting start ends at once; closed, a connect loop whose cancel
    was swallowed ends at its next check."""
    serving.cancel()
    await bot.close()
    await asyncio.wait((serving,))
    if not serving.cancelled() and (error := serving.exception()) is not None:
        # What a stop cut short (a request whose session closed) is no failure of the process.
        log.info("stopping: the bot's connection ended with %r", error)


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """At most ``arenas`` glibc malloc arenas (unless MALLOC_ARENA_MAX says otherwise).

    glibc gives threads that allocate at once arenas of their own, up to 8 per core, and memory
    freed in one is only reused there: the reader threads (SQLite's page caches and rows) and the
    loop each grew their own heap, and RSS kept the high-water mark of all of them. Called before
    the reader threads start. False where there is no glibc (musl, macOS, Windows): nothing to do."""
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False


def freeze_startup_heap() -> None:
    """Move what start-up built (the title vocabulary, the command tree, every module) out of the
    cyclic collector's reach: it lives as long as the process, yet each full collection scanned all
    of it, pausing the loop 0.6-0.8 s at 300 interactions/s (every queued interaction's wait). Only
    what serving allocates is scanned from here on; reference counting still frees frozen objects
    that are dropped. Then collect the young generation every ``COLLECTION_THRESHOLDS[0]``
    allocations."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECTION_THRESHOLDS)


class StoreReads:
    """What the heartbeat reads from the store (the last fetches), and since when it cannot.

    A heartbeat is the sign that the process lives: while the store cannot be read (PostgreSQL
    restarting, refusing connections) it is still written, with the last fetches read and the
    store marked failing. It used to fail as a whole, so after 90 s `paperbot health` said "is the
    bot running?" and "store: writable", and a supervisor restarted every bot over a database
    outage that no restart fixes."""

    def __init__(self) -> None:
        self.fetches: dict[str, FetchOutcome] = {}
        self.failing: tuple[datetime, str] | None = None

    async def read(self, services: Services, settings: Settings) -> None:
        try:
            records = await services.last_fetches(settings.sources.enabled)
        except Exception as exc:
            if self.failing is None:  # a spell already under way keeps its start
                self.failing = (health_now(), f"the store cannot be read: {describe(exc)}")
            return
        self.failing = None
        self.fetches = {
            source: FetchOutcome(record.fetched_at, record.ok, record.papers, record.error)
            for source, record in records.items()
            if record is not None
        }


async def _beat(
    bot: PaperBot,
    services: Services,
    settings: Settings,
    *,
    stopped: bool = False,
    failing: RepeatingFailures | None = None,
    reads: StoreReads | None = None,
) -> None:
    path = settings.health.file
    if path is None:
        return
    reads = reads or StoreReads()
    await reads.read(services, settings)
    unwritable = services.database.writes.unwritable
    heartbeat = bot.health.heartbeat(
        interval_seconds=settings.health.interval_seconds,
        fetches=reads.fetches,
        stopped=stopped,
        unwritable=(unwritable.since, unwritable.reason) if unwritable else reads.failing,
    )
    failing = failing or RepeatingFailures(log)
    try:
        write_heartbeat(path, heartbeat)
    except OSError as exc:  # a full disk must not stop the bot; `paperbot health` will see it stale
        failing.failed(f"writing the heartbeat to {path}", exc)
        return
    failing.succeeded(f"writing the heartbeat to {path}")


async def _heartbeats(bot: PaperBot, services: Services, settings: Settings) -> None:
    """Rewrite the heartbeat file every ``health.interval_seconds`` while the bot runs, and at once
    when the gateway connects, drops or reconnects or the scheduler starts ticking: a supervisor
    reads the change without waiting an interval (and the interval can stay long, so a busy
    machine's stall does not make a running bot look dead)."""
    changed = asyncio.Event()
    bot.health.on_change = changed.set
    failing = RepeatingFailures(log)  # the heartbeat's own disk full: a line, not one every beat
    reads = StoreReads()
    while settings.health.file is not None:
        changed.clear()
        try:
            await _beat(bot, services, settings, failing=failing, reads=reads)
        except Exception:  # e.g. the database is locked: log it, the next beat may succeed
            log.exception("heartbeat failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), settings.health.interval_seconds)


async def _tend_indexes(services: Services, settings: Settings) -> None:
    """Read the search indexes into memory once (seconds: first calls stop waiting on the disk
    soon), merge them if they gathered segments (minutes on a large store, which finds the
    pages the warm-up read), then look every ``search.merge_check_minutes`` for segments that
    fetches added."""
    await _warm_indexes(services, settings)
    await _merge_indexes(services, settings)
    while settings.search.merge_indexes:
        await asyncio.sleep(settings.search.merge_check_minutes * 60)
        await _merge_indexes(services, settings)


async def _merge_indexes(services: Services, settings: Settings) -> None:
    """One merge pass (bot.storage.index_merge); cancelled (the bot stopping), the step in hand
    rolls back or commits whole."""
    if not settings.search.merge_indexes:
        return
    try:
        merged = await services.merge_indexes()
    except StorageUnavailable as exc:  # another process's ingest held the writer: the next pass goes on
        log.warning("merging the full-text indexes paused: %s", exc)
        return
    except Exception:
        log.exception("merging the full-text indexes failed")
        return
    if merged is not None and merged.merged_any:
        log.info("%s", merged.describe())


async def _warm_indexes(services: Services, settings: Settings) -> None:
    """Read what searches need into memory once, beside serving (SQLite: index_warmup; PostgreSQL:
    pg_warmup). Cancelled (the bot stopping), it stops within the chunk in hand."""
    if not settings.search.warm_indexes:
        return
    try:
        warmed = await services.warm_indexes()
    except Exception:  # a store it cannot read this way serves as before, reading pages as needed
        log.exception("reading the search indexes ahead failed")
        return
    if warmed is not None:
        log.info("%s", warmed.describe())


async def keep_shards(
    bot: PaperBot, shards: ShardClaims, measure_clock: Callable[[], Awaitable[None]] | None = None
) -> None:
    """Renew this process's shard claims while it runs; stop serving once another process took
    them over (this one stalled past their expiry), rather than answer beside it. ``measure_clock``
    first: the claims' time is the store's, followed as the machine's clock is stepped."""
    failing = RepeatingFailures(log)
    unrun: tuple[int, ...] = ()
    while True:
        await asyncio.sleep(RENEW_EVERY.total_seconds())
        try:
            if measure_clock is not None:
                await measure_clock()
            kept = await shards.keep()
            now_unrun = await shards.unrun() if kept else unrun
        except Exception as exc:  # e.g. the database is busy or its disk full: the next renewal may succeed
            failing.failed("renewing the shard claims", exc)
            continue
        failing.succeeded("renewing the shard claims")
        if not kept:
            log.error("another process took over %s: stopping", shards.plan.describe())
            await bot.close()
            return
        unrun = _say_unrun_shards(unrun, now_unrun, shards.plan.count or 0)


def _say_unrun_shards(before: tuple[int, ...], now: tuple[int, ...], shard_count: int) -> tuple[int, ...]:
    """Warn once when shards of the layout run in no process (a process stopped and not started
    again: its servers silently get nothing), and once when every shard runs again."""
    if now and now != before:
        log.warning("%s", unrun_warning(now, shard_count))
    elif before and not now:
        log.info("every shard of %d runs in a process again", shard_count)
    return now


async def sync_commands(settings: Settings, guild_id: int | None) -> list[str]:
    """Log in over HTTP only (no gateway), publish the command tree, log out."""
    assert settings.discord_token is not None
    use_endpoints(settings.discord_api_base, settings.discord_gateway_url)
    async with open_services(settings, warm=False) as services:
        # Logging in runs setup_hook; a one-shot sync must not start the posting schedule.
        quiet = settings.model_copy(
            update={"digest": settings.digest.model_copy(update={"scheduler": False})}
        )
        async with PaperBot(services=services, settings=quiet) as bot:
            await bot.login(settings.discord_token.get_secret_value())  # runs setup_hook: cogs loaded
            return await bot.publish_commands(guild_id)
