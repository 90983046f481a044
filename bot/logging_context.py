"""Log lines that say which server, member and command they are about; plain or JSON; stderr and
optionally a rotating file.

The command tree (and every view, for its buttons) sets the context when an interaction arrives;
every log record emitted while handling it (in that task) carries its guild, user and command: as
``[guild=… user=… command=…]`` in plain lines, as keys in JSON lines.

stderr is the default destination because journald and Docker already collect and rotate it; a
``log.file`` is for running by hand, and rotates itself (``log.max_bytes``, ``log.backups``).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal


@dataclass(frozen=True, slots=True)
class LogContext:
    guild: int | None  # None: a DM
    user: int | None
    command: str | None


_context: ContextVar[LogContext | None] = ContextVar("paperbot_log_context", default=None)


def set_context(*, guild: int | None, user: int | None, command: str | None) -> None:
    _context.set(LogContext(guild, user, command))


def current_context() -> LogContext | None:
    return _context.get()


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        record.log_context = context
        if context is None:
            record.context = "-"
        else:
            record.context = (
                f"guild={context.guild or 'dm'} user={context.user} command={context.command or '-'}"
            )
        return True


class QuietVoiceWarnings(logging.Filter):
    """paperbot never joins voice: discord.py's warnings about missing voice libraries are noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "voice will NOT be supported" not in record.getMessage()


class QuietOverlappingTicks(logging.Filter):
    """apscheduler warns "maximum number of running instances reached" for every tick that comes
    while the job's previous run still goes (a digest fan-out longer than the tick: one WARNING a
    minute for as long as it lasts). Our jobs run one at a time on purpose and the run in hand does
    the tick's work (the services coalesce it), so it is scheduler chatter: shown only where the
    scheduler's own lines are asked for (``log.scheduler_level`` INFO or DEBUG)."""

    def __init__(self, scheduler_level: str) -> None:
        super().__init__()
        self._shown = logging.getLevelName(scheduler_level.upper()) <= logging.INFO

    def filter(self, record: logging.LogRecord) -> bool:
        return (
            self._shown
            or not record.name.startswith("apscheduler")
            or "maximum number of running instances reached" not in record.getMessage()
        )


PLAIN = "%(asctime)s %(levelname)s %(name)s [%(context)s] %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line; the interaction's context as keys (``guild`` "dm" in DMs)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context: LogContext | None = getattr(record, "log_context", None)
        if context is not None:
            entry |= {"guild": context.guild or "dm", "user": context.user, "command": context.command}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


LogFormat = Literal["plain", "json"]
SCHEDULER_RUNS = "apscheduler.executors"  # its loggers say "Running job ..." / "... executed successfully"


def configure(
    level: str,
    *,
    format: LogFormat = "plain",
    file: Path | None = None,
    max_bytes: int = 10_000_000,
    backups: int = 5,
    stream: IO[str] | None = None,
    scheduler_level: str = "WARNING",
) -> list[logging.Handler]:
    """Route every log record to stderr (or ``stream``) and, when given, a rotating ``file``.
    apscheduler's executor logs at ``scheduler_level``: at INFO it says two lines for every run of
    the digest tick, every minute, drowning what matters."""
    handlers: list[logging.Handler] = [logging.StreamHandler(stream)]
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
            )
        )
    formatter = JsonFormatter() if format == "json" else logging.Formatter(PLAIN)
    for handler in handlers:
        handler.addFilter(ContextFilter())
        handler.addFilter(QuietVoiceWarnings())
        handler.addFilter(QuietOverlappingTicks(scheduler_level))
        handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in root.handlers:
        old.close()  # a file handler from an earlier configure (tests, the sandbox) is released
    root.handlers[:] = handlers
    root.setLevel(level.upper())
    logging.getLogger(SCHEDULER_RUNS).setLevel(scheduler_level.upper())
    return handlers
