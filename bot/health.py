"""The running bot's heartbeat, and `paperbot health` reading it.

`paperbot run` rewrites a small JSON file every ``health.interval_seconds`` with what a supervisor
needs (gateway connected, last scheduler tick, last fetch per source); `paperbot health` reads it
and exits 0 or 1, so Docker's HEALTHCHECK or a systemd timer can act on it without talking to the
bot. A file rather than an HTTP port: nothing to bind or expose, and it works the same in a
container, under systemd or by hand. The file is replaced atomically, so a reader never sees half.

What counts as unhealthy is what a restart could fix: no heartbeat (the process is gone or hung),
a gateway disconnected for longer than a reconnect takes, a scheduler that stopped ticking; and a
store that refuses writes (its disk is full), which no restart fixes but which is this machine's
to fix: nothing can be posted, followed or saved meanwhile. A failed fetch is shown but does not
fail the check: the source is down, and neither restarting the bot nor the operator brings it back.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

STALE_AFTER_INTERVALS = 3  # heartbeats missed before the file counts as stale
TICK_SLACK = timedelta(seconds=60)  # a tick may run late behind a long post
# A heartbeat is a few KiB (a source's error note the most of it); far above that it is not one.
MAX_HEARTBEAT_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    at: datetime
    ok: bool
    papers: int
    error: str | None


@dataclass(frozen=True, slots=True)
class Heartbeat:
    written_at: datetime
    started_at: datetime
    pid: int
    interval_seconds: float
    gateway_connected: bool
    gateway_since: datetime  # when the gateway last connected or dropped
    tick_seconds: float | None  # None: the scheduler is off
    last_tick: datetime | None
    fetches: dict[str, FetchOutcome] = field(default_factory=dict)
    stopped: bool = False
    shards: str | None = None  # "0-1 of 6": the Discord shards this process runs
    unwritable_since: datetime | None = None  # the store refuses writes (full disk) since then
    unwritable_reason: str | None = None

    def to_json(self) -> str:
        def encode(value: Any) -> Any:
            return value.isoformat() if isinstance(value, datetime) else value

        data = asdict(self)
        data = {k: encode(v) for k, v in data.items()}
        data["fetches"] = {s: {k: encode(v) for k, v in f.items()} for s, f in data["fetches"].items()}
        return json.dumps(data, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Heartbeat:
        data = json.loads(text)

        def when(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        return cls(
            written_at=datetime.fromisoformat(data["written_at"]),
            started_at=datetime.fromisoformat(data["started_at"]),
            pid=int(data["pid"]),
            interval_seconds=float(data["interval_seconds"]),
            gateway_connected=bool(data["gateway_connected"]),
            gateway_since=datetime.fromisoformat(data["gateway_since"]),
            tick_seconds=None if data["tick_seconds"] is None else float(data["tick_seconds"]),
            last_tick=when(data["last_tick"]),
            fetches={
                source: FetchOutcome(
                    at=datetime.fromisoformat(f["at"]),
                    ok=bool(f["ok"]),
                    papers=int(f["papers"]),
                    error=f["error"],
                )
                for source, f in data["fetches"].items()
            },
            stopped=bool(data["stopped"]),
            shards=data.get("shards"),
            # .get: a heartbeat written by an older release has neither
            unwritable_since=when(data.get("unwritable_since")),
            unwritable_reason=data.get("unwritable_reason"),
        )


def utcnow() -> datetime:
    return datetime.now(UTC)


class HealthState:
    """What the running bot knows about itself; the client and the scheduler report into it."""

    def __init__(self, *, tick_seconds: float | None, clock: Callable[[], datetime] = utcnow) -> None:
        self._clock = clock
        self.started_at = clock()
        self.tick_seconds = tick_seconds
        self.gateway_connected = False
        self.gateway_since = self.started_at
        self.last_tick: datetime | None = None
        self.shards: str | None = None
        # Told when the state a supervisor acts on changes (see ``changed``).
        self.on_change: Callable[[], None] = lambda: None

    def gateway(self, connected: bool) -> None:
        if connected != self.gateway_connected:
            self.gateway_connected = connected
            self.gateway_since = self._clock()
            self.on_change()

    def ticked(self) -> None:
        first = self.last_tick is None
        self.last_tick = self._clock()
        if first:  # from "no tick yet" to ticking; later ticks only refresh the time
            self.on_change()

    def uptime(self) -> timedelta:
        return self._clock() - self.started_at

    def heartbeat(
        self,
        *,
        interval_seconds: float,
        fetches: dict[str, FetchOutcome],
        stopped: bool = False,
        unwritable: tuple[datetime, str] | None = None,  # since when, and why, writes are refused
    ) -> Heartbeat:
        return Heartbeat(
            written_at=self._clock(),
            started_at=self.started_at,
            pid=os.getpid(),
            interval_seconds=interval_seconds,
            gateway_connected=self.gateway_connected,
            gateway_since=self.gateway_since,
            tick_seconds=self.tick_seconds,
            last_tick=self.last_tick,
            fetches=fetches,
            stopped=stopped,
            shards=self.shards,
            unwritable_since=unwritable[0] if unwritable else None,
            unwritable_reason=unwritable[1] if unwritable else None,
        )


def write_heartbeat(path: Path, heartbeat: Heartbeat) -> None:
    """Replace the file atomically: a reader sees the old heartbeat or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(heartbeat.to_json(), encoding="utf-8")
    os.replace(partial, path)


@dataclass(frozen=True, slots=True)
class Finding:
    name: str
    ok: bool
    detail: str


def _ago(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def assess(heartbeat: Heartbeat, now: datetime, *, disconnect_grace: timedelta) -> list[Finding]:
    """One finding per thing a supervisor cares about; healthy when every one is ok."""
    findings: list[Finding] = []
    age = now - heartbeat.written_at
    if heartbeat.stopped:
        findings.append(Finding("process", False, f"pid {heartbeat.pid} stopped {_ago(age)}"))
        return findings
    stale_after = timedelta(seconds=heartbeat.interval_seconds * STALE_AFTER_INTERVALS)
    fresh = age <= stale_after
    findings.append(
        Finding(
            "heartbeat",
            fresh,
            f"written {_ago(age)} by pid {heartbeat.pid}"
            + ("" if fresh else f", stale after {int(stale_after.total_seconds())} s: is the bot running?"),
        )
    )
    down_for = heartbeat.written_at - heartbeat.gateway_since
    if heartbeat.gateway_connected:
        findings.append(Finding("gateway", True, f"connected since {_ago(now - heartbeat.gateway_since)}"))
    else:
        findings.append(
            Finding(
                "gateway",
                down_for <= disconnect_grace,
                f"not connected for {int(down_for.total_seconds())} s"
                f" (allowed: {int(disconnect_grace.total_seconds())} s)",
            )
        )
    if heartbeat.shards is not None:
        findings.append(Finding("shards", True, heartbeat.shards))
    if heartbeat.tick_seconds is None:
        findings.append(Finding("scheduler", True, "off (digest.scheduler = false)"))
    else:
        due_within = timedelta(seconds=heartbeat.tick_seconds * STALE_AFTER_INTERVALS) + TICK_SLACK
        since = heartbeat.last_tick or heartbeat.started_at
        late = heartbeat.written_at - since > due_within
        what = f"last tick {_ago(now - heartbeat.last_tick)}" if heartbeat.last_tick else "no tick yet"
        findings.append(Finding("scheduler", not late, what + (" (late: stuck?)" if late else "")))
    if heartbeat.unwritable_since is None:
        findings.append(Finding("store", True, "writable"))
    else:
        findings.append(
            Finding(
                "store",
                False,
                f"refusing writes since {_ago(now - heartbeat.unwritable_since)}:"
                f" {heartbeat.unwritable_reason or 'unknown reason'}",
            )
        )
    for source, fetch in sorted(heartbeat.fetches.items()):
        if fetch.ok:  # an error beside a good fetch names the malformed entries it left out
            outcome = f"{fetch.papers} papers" + (f" ({fetch.error})" if fetch.error else "")
        else:
            outcome = f"failed ({fetch.error or 'unknown error'})"
        # Informational: a source outage is not something a restart fixes.
        findings.append(Finding(f"fetch {source}", True, f"{_ago(now - fetch.at)}: {outcome}"))
    return findings


def read_heartbeat(path: Path) -> Heartbeat:
    """The heartbeat at ``path``; OSError or ValueError when it is missing or unreadable.

    Only a regular file of at most ``MAX_HEARTBEAT_BYTES`` is read: a named pipe would hold the
    check until something writes to it and ``/dev/zero`` until memory runs out, so a health check
    pointed at either never answered (opened without blocking, so a pipe is seen, not waited on)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise NotAHeartbeat("not a regular file")
        data = handle.read(MAX_HEARTBEAT_BYTES + 1)
    if len(data) > MAX_HEARTBEAT_BYTES:
        raise NotAHeartbeat(f"over {MAX_HEARTBEAT_BYTES // (1024 * 1024)} MiB, far more than a heartbeat")
    return Heartbeat.from_json(data.decode("utf-8"))


class NotAHeartbeat(ValueError):
    """The path holds something no heartbeat is; the message says what."""
