"""A sliding-window call budget: at most ``calls`` requests in any ``per`` seconds, and a pause
after the source said "too many requests". Pure: the caller brings the clock and does the waiting.

Hugging Face allows 500 API calls per 5 minutes; paperbot keeps to that across every HF request
(the refresh of recent lists, the daily fetch, CLI fetches), retries included.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

HF_CALLS = 500
HF_WINDOW_SECONDS = 300.0


@dataclass(slots=True)
class RateBudget:
    calls: int = HF_CALLS
    per: float = HF_WINDOW_SECONDS
    _spent: deque[float] = field(default_factory=deque, repr=False)
    _paused_until: float = field(default=float("-inf"), repr=False)

    def __post_init__(self) -> None:
        if self.calls < 1 or self.per <= 0:
            raise ValueError("a budget allows at least one call in a positive window")

    def used(self, now: float) -> int:
        """Calls made in the window ending at ``now`` (what /papers stats shows)."""
        while self._spent and self._spent[0] <= now - self.per:
            self._spent.popleft()
        return len(self._spent)

    def wait(self, now: float) -> float:
        """Seconds to wait from ``now`` before the next call keeps within the budget (0: go)."""
        self.used(now)
        wait = max(0.0, self._paused_until - now)
        if len(self._spent) >= self.calls:
            # The oldest call in the window must leave it first.
            wait = max(wait, self._spent[len(self._spent) - self.calls] + self.per - now)
        return wait

    def spend(self, now: float) -> None:
        """Count a call made at ``now``."""
        self._spent.append(now)

    def pause(self, now: float, seconds: float) -> None:
        """The source answered 429: no call (from anyone sharing the budget) for ``seconds``."""
        self._paused_until = max(self._paused_until, now + max(0.0, seconds))
