"""Log lines that say which server, member and command they are about.

The command tree sets the context when an interaction arrives; every log record emitted while
handling it (in that task) carries ``guild=… user=… command=…``.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

_context: ContextVar[str] = ContextVar("paperbot_log_context", default="-")


def set_context(*, guild: int | None, user: int | None, command: str | None) -> None:
    _context.set(f"guild={guild or 'dm'} user={user} command={command or '-'}")


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.context = _context.get()
        return True


class QuietVoiceWarnings(logging.Filter):
    """paperbot never joins voice: discord.py's warnings about missing voice libraries are noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "voice will NOT be supported" not in record.getMessage()


def configure(level: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.addFilter(QuietVoiceWarnings())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(context)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
