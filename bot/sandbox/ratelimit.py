"""Discord's REST rate limits, as the emulator enforces them. Pure: the clock is passed in.

* **Global**: at most 50 requests per second per bot token, over all routes; the 51st gets a 429
  with ``"global": true``, ``X-RateLimit-Global: true`` and ``X-RateLimit-Scope: global``.
  Interaction callbacks and interaction webhooks (follow-ups, ``@original``) are exempt, as on
  Discord: answering interactions never waits for the bot's other traffic.
* **Per-route buckets**, keyed by the route and its major parameter (the channel, guild or
  webhook), in fixed windows: e.g. 5 messages per 5 s in one channel. Every answer carries
  ``X-RateLimit-Limit/Remaining/Reset/Reset-After/Bucket``, so a client such as discord.py waits
  before it would be refused; one that does not gets a 429 with ``"global": false`` and
  ``X-RateLimit-Scope: user``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

GLOBAL_PER_SECOND = 50
# (method, route shape) -> (requests, window seconds). Shapes use '#' for ids, as the router does.
ROUTE_LIMITS: dict[tuple[str, tuple[str, ...]], tuple[int, float]] = {
    ("POST", ("channels", "#", "messages")): (5, 5.0),
    ("PATCH", ("channels", "#", "messages", "#")): (5, 5.0),
    ("POST", ("channels", "#", "messages", "#", "threads")): (5, 5.0),
    ("POST", ("users", "@me", "channels")): (10, 10.0),
}
DEFAULT_LIMIT = (50, 1.0)
# Discord's 429s come through its proxy; a 429 without Via is a Cloudflare ban (discord.py raises).
VIA = "1.1 google"
MAJOR_PARAMETERS = ("channels", "guilds", "webhooks", "interactions")


@dataclass
class Window:
    """A fixed rate-limit window: ``limit`` requests until ``resets_at``."""

    limit: int
    per: float
    used: int = 0
    resets_at: float = float("-inf")

    def take(self, now: float) -> bool:
        if now >= self.resets_at:
            self.used, self.resets_at = 0, now + self.per
        if self.used >= self.limit:
            return False
        self.used += 1
        return True

    def reset_after(self, now: float) -> float:
        return max(0.0, self.resets_at - now)


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    headers: dict[str, str]
    retry_after: float = 0.0
    is_global: bool = False

    def body(self) -> dict[str, Any]:
        """The JSON Discord sends with a 429."""
        return {
            "message": "You are being rate limited.",
            "retry_after": self.retry_after,
            "global": self.is_global,
        }


@dataclass
class RateLimits:
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    global_per_second: int = GLOBAL_PER_SECOND
    limited: list[Verdict] = field(default_factory=list)  # every 429 given, for tests and benches
    _global: dict[str, Window] = field(default_factory=dict)
    _buckets: dict[tuple[str, tuple[str, ...], str], Window] = field(default_factory=dict)

    def check(self, method: str, parts: list[str], token: str = "") -> Verdict:
        """Count one request (``parts``: the path below /api/v10 split on '/') or refuse it."""
        now = self.clock()
        shape = route_shape(parts)
        if not _interaction_route(parts):
            window = self._global.setdefault(token, Window(self.global_per_second, 1.0))
            if not window.take(now):
                retry = round(window.reset_after(now), 3)
                verdict = Verdict(
                    False,
                    {
                        "Retry-After": str(retry),
                        "X-RateLimit-Global": "true",
                        "X-RateLimit-Scope": "global",
                        "Via": VIA,
                    },
                    retry,
                    is_global=True,
                )
                self.limited.append(verdict)
                return verdict
        limit, per = ROUTE_LIMITS.get((method, shape), DEFAULT_LIMIT)
        key = (method, shape, _major(parts))
        bucket = self._buckets.setdefault(key, Window(limit, per))
        allowed = bucket.take(now)
        reset_after = round(bucket.reset_after(now), 3)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - bucket.used)),
            "X-RateLimit-Reset": f"{self.wall_clock() + reset_after:.3f}",
            "X-RateLimit-Reset-After": str(reset_after),
            "X-RateLimit-Bucket": _bucket_hash(method, shape),
        }
        if allowed:
            return Verdict(True, headers)
        headers |= {"Retry-After": str(reset_after), "X-RateLimit-Scope": "user", "Via": VIA}
        verdict = Verdict(False, headers, reset_after)
        self.limited.append(verdict)
        return verdict

    @property
    def global_429s(self) -> int:
        return sum(1 for v in self.limited if v.is_global)


def route_shape(parts: list[str]) -> tuple[str, ...]:
    """A path with ids replaced by '#': what routes and buckets are looked up by."""
    return tuple("#" if p.isdigit() or p.startswith("itoken-") else p for p in parts)


def _interaction_route(parts: list[str]) -> bool:
    return bool(parts) and (parts[0] == "interactions" or (parts[0] == "webhooks" and len(parts) >= 3))


def _major(parts: list[str]) -> str:
    """The id a bucket is per: the channel, guild or webhook (with its token) a route is about."""
    if parts and parts[0] in MAJOR_PARAMETERS and len(parts) > 1:
        return "/".join(parts[: 3 if parts[0] in ("webhooks", "interactions") else 2])
    return ""


def _bucket_hash(method: str, shape: tuple[str, ...]) -> str:
    return hashlib.sha1(f"{method} {'/'.join(shape)}".encode()).hexdigest()[:16]
