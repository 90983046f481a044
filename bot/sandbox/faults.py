"""Failures on demand: REST calls that answer an HTTP error or a 429 burst, as tests inject them.
The middleware here sees every REST call first (faults, the token used, rate-limit headers)."""

from __future__ import annotations

import asyncio
import fnmatch
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.sandbox.ratelimit import RateLimits
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


class Faults(World):
    def __init__(self, *, rate_limited: bool = True, **kwargs: Any) -> None:
        """``rate_limited``: enforce Discord's global and per-route limits (bot/sandbox/ratelimit.py)."""
        super().__init__(**kwargs)
        self.faults: list[Fault] = []
        self.rate_limits = RateLimits() if rate_limited else None
        self.stopping = asyncio.Event()

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
    ) -> None:
        """Make matching REST calls fail (``path`` is an fnmatch pattern below /api/v10), after
        letting ``skip`` of them through. ``hang``: the call takes effect (a message is created)
        but its answer is held back until the emulator stops, as when the network drops it."""
        self.faults.append(Fault(method.upper(), path, status, code, times, retry_after, skip, hang))

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
                if fault.hang:
                    await handler(request)
                    await self._notify()
                    await self.stopping.wait()
                    return error_response(503, "the emulator stopped")
                if fault.status == 429:
                    return json_response(
                        {"message": "Rate limited.", "retry_after": fault.retry_after, "global": False},
                        429,
                        {"Retry-After": str(fault.retry_after), "X-RateLimit-Scope": "user"},
                    )
                return error_response(fault.status, "injected by the emulator", fault.code)
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bot "):
            self.tokens_seen.add(auth[4:])
        limits = None
        if self.rate_limits is not None:
            verdict = self.rate_limits.check(request.method, path.strip("/").split("/"), auth)
            if not verdict.allowed:
                return json_response(verdict.body(), 429, verdict.headers)
            limits = verdict.headers
        response: web.StreamResponse = await handler(request)
        response.headers.update(limits or {})
        await self._notify()
        return response
