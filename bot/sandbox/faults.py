"""Failures on demand: REST calls that answer an HTTP error or a 429 burst, as tests inject them.
The middleware here sees every REST call first (faults, the token used and refused, rate-limit
headers)."""

from __future__ import annotations

import asyncio
import fnmatch
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.sandbox.auth import UNAUTHORIZED, is_authorized, needs_bot_token
from bot.sandbox.model import Channel
from bot.sandbox.ratelimit import VIA, RateLimits
from bot.sandbox.rest import error_response, json_response
from bot.sandbox.world import API, World


@dataclass
class Fault:
    method: str
    path: str
    status: int
    code: int = 0
    times: int | None = 1
    retry_after: float = 0.2
    skip: int = 0  # matching calls let through first (fail the k-th: skip k-1)
    hang: bool = False  # Discord does the work, but its answer never comes (a timeout, a kill)
    hits: int = 0  # calls it has failed so far: tests wait for it (an event, not a sleep)
    released: asyncio.Event = field(default_factory=asyncio.Event)  # cleared: held answers go out

    def clear(self) -> None:
        """The fault is over: no more failures, and answers held back are sent (late)."""
        self.times = 0
        self.released.set()


class Faults(World):
    def __init__(self, *, rate_limited: bool = True, **kwargs: Any) -> None:
        """``rate_limited``: enforce Discord's global and per-route limits (bot/sandbox/ratelimit.py)."""
        super().__init__(**kwargs)
        self.faults: list[Fault] = []
        self.rate_limits = RateLimits() if rate_limited else None
        self.stopping = asyncio.Event()
        self.unauthorized = 0  # REST calls answered 401: not the bot's token

    def inject(
        self,
        method: str,
        path: str,
        *,
        status: int,
        code: int = 0,
        times: int | None = 1,
        retry_after: float = 0.2,
        skip: int = 0,
        hang: bool = False,
    ) -> Fault:
        """Make matching REST calls fail (``path`` is an fnmatch pattern below /api/v10), after
        letting ``skip`` of them through. ``hang``: the call takes effect (a message is created)
        but its answer is held back until the fault is cleared or the emulator stops, as when the
        network drops it."""
        fault = Fault(method.upper(), path, status, code, times, retry_after, skip, hang)
        self.faults.append(fault)
        return fault

    def fail_message(
        self,
        channel: Channel,
        *,
        at: int,
        status: int = 0,
        code: int = 0,
        hang: bool = False,
        persist: bool = False,
    ) -> Fault:
        """Fail the ``at``-th message the bot posts in ``channel`` (a server channel or a DM): an
        HTTP ``status`` with Discord's error ``code`` (500, 503; 403 with 50013 Missing
        Permissions or 50007 Cannot send messages to this user), or ``hang`` (Discord creates
        it, the answer never comes). ``persist``: every later try there fails alike (Discord stays
        down, the permission stays missing) until the fault is cleared."""
        return self.inject(
            "POST",
            f"/channels/{channel.id}/messages",
            status=status,
            code=code,
            times=None if persist else 1,
            skip=at - 1,
            hang=hang,
        )

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path.removeprefix(API)
        for fault in self.faults:
            matches = fault.method in (request.method, "*") and fnmatch.fnmatch(path, fault.path)
            if fault.times != 0 and matches and fault.skip > 0:
                fault.skip -= 1
                continue
            if fault.times != 0 and matches:
                if fault.times is not None:
                    fault.times -= 1
                fault.hits += 1
                if fault.hang:
                    answer: web.StreamResponse = await handler(request)
                    await self._notify()
                    await _first(self.stopping.wait(), fault.released.wait())
                    return answer if fault.released.is_set() else error_response(503, "the emulator stopped")
                await self._notify()
                if fault.status == 429:
                    # Through Discord's proxy (Via), as every real 429 is: discord.py waits and
                    # retries those itself, and takes one without Via for a Cloudflare ban.
                    return json_response(
                        {
                            "message": "You are being rate limited.",
                            "retry_after": fault.retry_after,
                            "global": False,
                        },
                        429,
                        {"Retry-After": str(fault.retry_after), "X-RateLimit-Scope": "user", "Via": VIA},
                    )
                return error_response(fault.status, "injected by the emulator", fault.code)
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bot "):
            self.tokens_seen.add(auth[4:])
        parts = path.strip("/").split("/")
        if request.path.startswith(API) and needs_bot_token(parts) and not is_authorized(auth, self.token):
            self.unauthorized += 1
            return json_response(UNAUTHORIZED, 401)
        limits = None
        if self.rate_limits is not None:
            verdict = self.rate_limits.check(request.method, parts, auth)
            if not verdict.allowed:
                return json_response(verdict.body(), 429, verdict.headers)
            limits = verdict.headers
        response: web.StreamResponse = await handler(request)
        response.headers.update(limits or {})
        await self._notify()
        return response


async def _first(*waits: Any) -> None:
    """Until the first of ``waits`` (coroutines) is done; the others are cancelled."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
