"""Pacing: at most ``rate`` events a second on average, with short bursts. Pure: the clock is passed in.

Discord allows a bot 50 requests a second in all (the global limit) and answers a 429 to the
51st; discord.py then waits, but only after the refusal. Pacing a fan-out below the limit
beforehand means no 429 at all, and leaves room for the bot's other traffic.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Pacer:
    """A token bucket kept as one number: the time the next event is due (GCRA)."""

    def __init__(self, rate: float, *, burst: int = 1, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.interval = 1.0 / rate
        self._tolerance = (burst - 1) * self.interval
        self._clock = clock
        self._due = float("-inf")

    def reserve(self) -> float:
        """Take the next slot: the seconds to wait before using it (0: go now)."""
        now = self._clock()
        due = max(self._due, now)
        self._due = due + self.interval
        return max(0.0, due - self._tolerance - now)
