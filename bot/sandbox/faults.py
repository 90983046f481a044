"""Failures on demand: REST calls that answer an HTTP error or a 429 burst, as tests inject them.
The middleware here sees every REST call first (faults, the token used, rate-limit headers)."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from aiohttp import web

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


class Faults(World):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.faults: list[Fault] = []

    def inject(
        self,
        method: str,
        path: str,
        *,
        status: int,
        code: int = 0,
        times: int | None = 1,
        retry_after: float = 0.2,
    ) -> None:
        """Make matching REST calls fail (``path`` is an fnmatch pattern below /api/v10)."""
        self.faults.append(Fault(method.upper(), path, status, code, times, retry_after))

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path.removeprefix(API)
        for fault in self.faults:
            matches = fault.method in (request.method, "*") and fnmatch.fnmatch(path, fault.path)
            if fault.times != 0 and matches:
                if fault.times is not None:
                    fault.times -= 1
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
        response: web.StreamResponse = await handler(request)
        response.headers.update(
            {
                "X-RateLimit-Limit": "50",
                "X-RateLimit-Remaining": "49",
                "X-RateLimit-Reset-After": "1.0",
                "X-RateLimit-Bucket": "emulated",
            }
        )
        await self._notify()
        return response
