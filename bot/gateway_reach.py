"""Reaching the Discord gateway, said aloud when it fails.

discord.py connects a shard with no word until its 180 s connect timeout runs out, then logs a
traceback that names neither the address nor when it tries again; a DISCORD_GATEWAY_URL that
points nowhere looked like a bot that hung. Before each shard connects, ``wait_until_reachable``
opens (and closes) a plain TCP connection to the gateway's host and port; each failure is one
warning naming the address (never its user, password or query) and the wait before the next try.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator

import yarl

from bot.domain.urls import shown_url
from bot.network_failure import connect_failure_reason

log = logging.getLogger(__name__)
FIRST_RETRY_SECONDS = 5.0  # as discord.py's own retry of a failed shard connect
LONGEST_RETRY_SECONDS = 60.0
DEFAULT_PORTS = {"ws": 80, "wss": 443, "http": 80, "https": 443}


def retry_delays() -> Iterator[float]:
    """5 s, then twice as long each time, at most a minute."""
    delay = FIRST_RETRY_SECONDS
    while True:
        yield delay
        delay = min(delay * 2, LONGEST_RETRY_SECONDS)


async def reach(url: str, *, answer_within: float) -> None:
    """Open and close a TCP connection to ``url``'s host and port; OSError or TimeoutError when
    that fails (name lookup, refused, unreachable, no answer within ``answer_within`` seconds)."""
    parsed = yarl.URL(url)
    host = parsed.host or ""
    port = parsed.explicit_port or DEFAULT_PORTS.get(parsed.scheme, 443)
    async with asyncio.timeout(answer_within):
        _, writer = await asyncio.open_connection(host, port)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


async def wait_until_reachable(
    url: str,
    *,
    answer_within: float,
    shard_id: int | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """Return once ``url`` answers a TCP connect; until then warn on each failure and wait."""
    delays = retry_delays()
    while True:
        try:
            await reach(url, answer_within=answer_within)
            return
        except (OSError, TimeoutError) as exc:
            delay = next(delays)
            timed_out = isinstance(exc, TimeoutError)
            reason = f"no answer within {answer_within:g} s" if timed_out else connect_failure_reason(exc)
            log.warning(
                "cannot connect to the Discord gateway at %s%s (%s); trying again in %g s "
                "(check DISCORD_GATEWAY_URL and the network)",
                shown_url(url),
                "" if shard_id is None else f" for shard {shard_id}",
                reason,
                delay,
            )
            await sleep(delay)
