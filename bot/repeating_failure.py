"""Logging a failure that a timer retries: one line when it starts, a reminder now and then, one
line when it clears.

The bot's background jobs retry on a timer (a due digest every scheduler tick, the shard claims
every 20 s, the source lease every 15 s). On a full disk each of them failed every time and logged
a whole traceback for it: 89 tracebacks in 45 s from the digest alone, burying the one line an
operator needs. An expected failure (a PaperbotError: its message is already the explanation; an
OSError: the machine's, such as a full disk or a refused connection) is logged without a traceback;
an unexpected one keeps its traceback on the line that starts it, since that is a bug to look at,
but not on every retry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable

from bot.errors import PaperbotError

REMIND_EVERY_SECONDS = 600.0  # a failure still going on is mentioned again this often
EXPECTED = (PaperbotError, OSError)  # failures whose message says it all: no traceback


def describe(exc: BaseException) -> str:
    if isinstance(exc, PaperbotError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


class _Spell:
    def __init__(self, started: float, reason: str) -> None:
        self.started = started
        self.reminded = started
        self.reason = reason
        self.failures = 1


class RepeatingFailures:
    """The failures of retried work, per key (one digest, one job), each logged as a spell."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        remind_every: float = REMIND_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._remind_every = remind_every
        self._clock = clock
        self._spells: dict[Hashable, _Spell] = {}

    def failed(self, what: str, exc: BaseException, *, key: Hashable = None) -> None:
        """``what`` (e.g. "digest for guild 1 channel 2") failed with ``exc`` and will be retried."""
        now = self._clock()
        reason = describe(exc)
        spell = self._spells.get(key)
        if spell is None or spell.reason != reason:  # a new spell, or the same work failing anew
            self._spells[key] = _Spell(now, reason)
            self._log.warning(
                "%s failed: %s (retrying; logged again only as a reminder every %s or when it works)",
                what,
                reason,
                _duration(self._remind_every),
                exc_info=None if isinstance(exc, EXPECTED) else exc,
            )
            return
        spell.failures += 1
        if now - spell.reminded >= self._remind_every:
            spell.reminded = now
            self._log.warning(
                "%s still failing (%d tries in %s): %s",
                what,
                spell.failures,
                _duration(now - spell.started),
                reason,
            )

    def failing(self, *, key: Hashable = None) -> bool:
        """Whether the work of ``key`` failed last time (a spell is under way)."""
        return key in self._spells

    def succeeded(self, what: str, *, key: Hashable = None) -> None:
        """``what`` worked: if it had been failing, say that the failure cleared."""
        spell = self._spells.pop(key, None)
        if spell is not None:
            self._log.info(
                "%s works again after %d failed tries in %s",
                what,
                spell.failures,
                _duration(self._clock() - spell.started),
            )
