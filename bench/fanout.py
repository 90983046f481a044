"""``python -m bench fanout``: many servers with the same digest time, against the rate-limited emulator.

The real ``paperbot run`` process starts with N servers whose digest is due now (today's list of
synthetic papers, one message each by default), so its start-up catch-up posts all of them at
once: the case of N servers sharing a posting minute. The emulator enforces Discord's limits
(50 requests/s global, 5 messages per 5 s per channel) and counts every 429 it gives. Printed:
time to the last post, the floor that the global limit allows and the ratio to it, duplicates,
429s, and the projection to a larger N.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from bench import cache
from bench.corpus import generate
from bench.load import _tree_rss_kb, bot_env
from bot.domain.models import ListedPaper, Source
from bot.domain.sources import recent_days
from bot.sandbox.emulator import DiscordEmulator
from bot.sandbox.ratelimit import GLOBAL_PER_SECOND
from bot.services.container import open_services
from bot.settings import Settings
from bot.storage.fetches import FetchRecord

PART = re.compile(r"part (\d+)/(\d+)")


class FanoutEmulator(DiscordEmulator):
    """Records when each channel message was accepted."""

    def __init__(self) -> None:
        super().__init__()
        self.posted_at: list[float] = []

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response = await super()._middleware(request, handler)
        if request.method == "POST" and request.path.endswith("/messages") and response.status == 200:
            self.posted_at.append(time.perf_counter())
        return response


async def _prepare(db: Path, emu: DiscordEmulator, servers: int, max_papers: int) -> list[int]:
    """Today's list and N servers due a minute ago; returns the digest channel ids."""
    today = datetime.now(UTC).date()
    listed = [
        ListedPaper(dataclasses.replace(item.paper, source=Source.HF_API, first_listed=today), today, rank)
        for rank, item in enumerate(generate(max(max_papers, 10), seed=41, first=10_000_000), 1)
    ]
    due = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%H:%M")
    channels = []
    async with open_services(Settings(db=db), warm=False) as services:
        await services.papers.ingest(listed)
        # The bot's source schedule fetched the lists a moment ago, as it does ahead of post times:
        # without that, each post would first wait for a fetch from the unreachable source (with
        # retries, ~5-10 s) and the bench would time the source's failures, not the fan-out.
        async with services.database.transaction():
            for day in recent_days(datetime.now(UTC)):
                await services.repositories.fetches.record(
                    FetchRecord("hf", day, datetime.now(UTC), ok=True, papers=len(listed), error=None)
                )

    # Set up yesterday, as the servers of a shared posting minute were: a digest set up after its
    # time first posts the next day (it never posts at once), so today's minute is due at start.
    def yesterday() -> datetime:
        return datetime.now(UTC) - timedelta(days=1)

    async with open_services(Settings(db=db), warm=False, clock=yesterday) as services:
        for i in range(servers):
            guild = emu.create_guild(f"server {i}")
            channel = emu.create_channel(guild, "papers")
            channels.append(channel.id)
            await services.digests.configure(
                guild.id, channel.id, post_time=due, timezone="UTC", max_papers=max_papers
            )
    return channels


async def run(servers: int, max_papers: int, wait: float) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="fanout-", dir=cache.CACHE))
    db = workdir / "fanout.db"
    emu = await FanoutEmulator().start()
    channels = await _prepare(db, emu, servers, max_papers)
    env = bot_env(emu, db)
    log_file = (workdir / "bot.log").open("wb")
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stdout=log_file, stderr=log_file
    )
    result: dict[str, Any] = {"servers": servers}
    try:
        await emu.wait_for(emu.identified.is_set, wait=120)
        ready = time.perf_counter()

        def all_posted() -> bool:
            return all(emu.channels[c].messages for c in channels) and _complete(emu, channels)

        try:
            await emu.wait_for(all_posted, wait=wait)
        except TimeoutError:
            result["timed_out"] = True
        await asyncio.sleep(2)  # anything sent twice would show up now
        result["rss_mb"] = _tree_rss_kb(bot.pid)[1] / 1000
    finally:
        if bot.returncode is None:
            bot.terminate()
            await bot.wait()
        await emu.stop()
        log_file.close()
    shutil.rmtree(workdir)
    counts = [len(emu.channels[c].messages) for c in channels]
    parts = _parts(emu, channels)
    limits = emu.rate_limits
    assert limits is not None
    times = sorted(emu.posted_at)
    result |= {
        "messages": sum(counts),
        "parts": parts,
        "posted_servers": sum(1 for c in counts if c),
        "duplicates": sum(counts) - sum(parts.get(c, 0) for c in channels),
        "first_post_s": times[0] - ready if times else float("nan"),
        "last_post_s": times[-1] - ready if times else float("nan"),
        "global_429s": limits.global_429s,
        "route_429s": len(limits.limited) - limits.global_429s,
    }
    return result


def _parts(emu: DiscordEmulator, channels: list[int]) -> dict[int, int]:
    """Per channel, how many parts its digest has (from the markers)."""
    out = {}
    for channel in channels:
        for message in emu.channels[channel].messages:
            footer = ((message.get("embeds") or [{}])[0].get("footer") or {}).get("text", "")
            match = PART.search(footer)
            out[channel] = int(match.group(2)) if match else 1
    return out


def _complete(emu: DiscordEmulator, channels: list[int]) -> bool:
    parts = _parts(emu, channels)
    return all(len(emu.channels[c].messages) >= parts.get(c, 1) for c in channels)


def report(result: dict[str, Any], project: int) -> None:
    servers, messages = result["servers"], result["messages"]
    floor = messages / GLOBAL_PER_SECOND
    took = result["last_post_s"]
    ratio = took / floor if floor else float("nan")
    print(
        f"\nfan-out, {servers:,} servers due at once: {result['posted_servers']:,} posted "
        f"({messages:,} messages, {max(result['parts'].values(), default=0)} part(s) each)"
        + ("  [TIMED OUT]" if result.get("timed_out") else "")
    )
    print(
        f"  first post {result['first_post_s']:.1f} s, last post {took:.1f} s after the gateway READY; "
        f"floor at {GLOBAL_PER_SECOND} requests/s: {floor:.1f} s; ratio {ratio:.2f}"
    )
    print(
        f"  duplicates: {result['duplicates']}  429s: {result['global_429s']} global, "
        f"{result['route_429s']} per-route  bot peak RSS {result['rss_mb']:.0f} MB"
    )
    if project and project != servers:
        per_server = messages / max(servers, 1)
        projected_floor = project * per_server / GLOBAL_PER_SECOND
        print(
            f"  projected for {project:,} servers: floor {projected_floor:.0f} s, "
            f"at the measured ratio {projected_floor * ratio:.0f} s"
        )
    print(
        "\n| fan-out | servers | time to last post | floor (50/s) | ratio | duplicates | 429s |\n"
        "|---|---|---|---|---|---|---|\n"
        "| today (no rate limit modelled) | 1,000 | 118 s (8.5 posts/s, 100% CPU) | 20 s | 5.9 | - | - |\n"
        f"| new | {servers:,} | {took:.1f} s | {floor:.1f} s | {ratio:.2f} | {result['duplicates']} "
        f"| {result['global_429s'] + result['route_429s']} |"
    )
