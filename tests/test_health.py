"""The heartbeat and `paperbot health`: healthy only when a restart would not help."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.health import (
    MAX_HEARTBEAT_BYTES,
    FetchOutcome,
    HealthState,
    Heartbeat,
    assess,
    read_heartbeat,
    write_heartbeat,
)

NOW = datetime(2026, 7, 30, 9, 0, tzinfo=UTC)
GRACE = timedelta(seconds=180)


def beat(**changes: object) -> Heartbeat:
    healthy = Heartbeat(
        written_at=NOW,
        started_at=NOW - timedelta(hours=2),
        pid=4242,
        interval_seconds=30,
        gateway_connected=True,
        gateway_since=NOW - timedelta(hours=2),
        tick_seconds=60,
        last_tick=NOW - timedelta(seconds=20),
        fetches={"hf": FetchOutcome(NOW - timedelta(hours=1), True, 12, None)},
    )
    return replace(healthy, **changes)  # type: ignore[arg-type]


def failing(heartbeat: Heartbeat, now: datetime = NOW) -> set[str]:
    return {f.name for f in assess(heartbeat, now, disconnect_grace=GRACE) if not f.ok}


def test_a_running_connected_ticking_bot_is_healthy() -> None:
    assert failing(beat()) == set()


def test_a_heartbeat_older_than_three_intervals_is_stale() -> None:
    assert failing(beat(), NOW + timedelta(seconds=90)) == set()
    assert failing(beat(), NOW + timedelta(seconds=91)) == {"heartbeat"}


def test_a_stopped_bot_is_unhealthy() -> None:
    assert failing(beat(stopped=True)) == {"process"}


@pytest.mark.parametrize(("down_for", "healthy"), [(0, True), (180, True), (181, False)])
def test_a_gateway_may_reconnect_within_the_grace(down_for: int, healthy: bool) -> None:
    heartbeat = beat(gateway_connected=False, gateway_since=NOW - timedelta(seconds=down_for))
    assert (failing(heartbeat) == set()) is healthy


def test_a_scheduler_that_stopped_ticking_is_unhealthy_unless_it_is_off() -> None:
    late = NOW - timedelta(seconds=3 * 60 + 61)
    assert failing(beat(last_tick=late)) == {"scheduler"}
    assert failing(beat(last_tick=None, started_at=late)) == {"scheduler"}
    assert failing(beat(last_tick=None, started_at=NOW - timedelta(seconds=30))) == set()  # just started
    assert failing(beat(last_tick=None, tick_seconds=None)) == set()


def test_a_failed_fetch_is_shown_but_a_restart_would_not_fix_it() -> None:
    heartbeat = beat(fetches={"hf": FetchOutcome(NOW, False, 0, "HTTP 503")})
    findings = assess(heartbeat, NOW, disconnect_grace=GRACE)
    assert all(f.ok for f in findings)
    assert any(f.name == "fetch hf" and "HTTP 503" in f.detail for f in findings)


def test_a_good_fetch_that_left_out_malformed_entries_says_so_and_stays_healthy() -> None:
    note = "1 malformed entry skipped: item 3 (2607.00001): publishedAt '2026-13-45' is not a date"
    heartbeat = beat(fetches={"hf": FetchOutcome(NOW, True, 39, note)})
    findings = assess(heartbeat, NOW, disconnect_grace=GRACE)
    assert all(f.ok for f in findings)
    assert [f.detail for f in findings if f.name == "fetch hf"] == [f"0 s ago: 39 papers ({note})"]


def test_the_state_reports_into_a_heartbeat_that_round_trips_through_the_file(tmp_path: Path) -> None:
    now = [NOW]
    state = HealthState(tick_seconds=60, clock=lambda: now[0])
    state.gateway(connected=True)
    now[0] += timedelta(seconds=5)
    state.ticked()
    path = tmp_path / "run" / "heartbeat.json"
    written = state.heartbeat(interval_seconds=30, fetches={"hf": FetchOutcome(NOW, True, 3, None)})
    write_heartbeat(path, written)
    assert read_heartbeat(path) == written
    assert written.gateway_connected and written.last_tick == NOW + timedelta(seconds=5)
    assert [p.name for p in path.parent.iterdir()] == ["heartbeat.json"]  # no partial file left


def test_the_state_tells_when_the_gateway_flips_or_the_scheduler_starts_ticking() -> None:
    """What `paperbot run` rewrites the heartbeat at once for (besides every interval)."""
    now = [NOW]
    state = HealthState(tick_seconds=60, clock=lambda: now[0])
    told: list[str] = []
    state.on_change = lambda: told.append("changed")
    state.gateway(connected=True)
    state.gateway(connected=True)  # no change
    state.ticked()
    now[0] += timedelta(seconds=60)
    state.ticked()  # still ticking: only the time moves, the next interval's write says it
    state.gateway(connected=False)
    state.gateway(connected=True)
    assert told == ["changed"] * 4


def test_a_sharded_process_says_which_shards_it_runs(tmp_path: Path) -> None:
    state = HealthState(tick_seconds=60, clock=lambda: NOW)
    state.gateway(connected=True)
    state.shards = "2-3 of 6"
    path = tmp_path / "heartbeat-1.json"
    write_heartbeat(path, state.heartbeat(interval_seconds=30, fetches={}))
    findings = assess(read_heartbeat(path), NOW, disconnect_grace=GRACE)
    assert [(f.name, f.ok, f.detail) for f in findings if f.name == "shards"] == [
        ("shards", True, "2-3 of 6")
    ]
    # A heartbeat from before shards were reported still reads (no shards line).
    old = json.loads(path.read_text())
    del old["shards"]
    path.write_text(json.dumps(old))
    assert read_heartbeat(path).shards is None


runner = CliRunner()


def test_a_store_refusing_writes_is_unhealthy_and_says_why_until_it_writes_again(tmp_path: Path) -> None:
    """A full disk: searches still work, but nothing can be posted, followed or saved."""
    path = tmp_path / "heartbeat.json"
    now = datetime.now(UTC)
    state = HealthState(tick_seconds=60, clock=lambda: now)
    state.gateway(connected=True)
    state.ticked()
    full = "The disk holding the database is full: nothing was saved. Free some space."
    write_heartbeat(
        path, state.heartbeat(interval_seconds=30, fetches={}, unwritable=(now - timedelta(minutes=3), full))
    )
    assert failing(read_heartbeat(path), now) == {"store"}
    result = runner.invoke(app, ["health", "--file", str(path)])
    assert result.exit_code == 1
    assert f"✘ store: refusing writes since 3 min ago: {full}" in result.output

    write_heartbeat(path, state.heartbeat(interval_seconds=30, fetches={}))  # a write went through again
    result = runner.invoke(app, ["health", "--file", str(path)])
    assert result.exit_code == 0 and "✔ store: writable" in result.output

    # A heartbeat from before the store was reported still reads, as writable.
    old = json.loads(path.read_text())
    del old["unwritable_since"], old["unwritable_reason"]
    path.write_text(json.dumps(old))
    assert failing(read_heartbeat(path), now) == set()


def test_health_exits_0_when_healthy_and_1_when_stale_missing_or_garbled(tmp_path: Path) -> None:
    # `paperbot health` judges the file's age by the real clock. The fresh heartbeats say they are
    # rewritten hourly (stale after three hours), so however long a loaded machine takes between
    # writing one and the command reading it, it is fresh; the stale one is hours old.
    hourly = 3600
    path = tmp_path / "heartbeat.json"
    write_heartbeat(
        path, beat(written_at=datetime.now(UTC), last_tick=datetime.now(UTC), interval_seconds=hourly)
    )
    result = runner.invoke(app, ["health", "--file", str(path)])
    assert result.exit_code == 0 and "✔ gateway: connected" in result.output and "healthy" in result.output

    write_heartbeat(path, beat(written_at=datetime.now(UTC) - timedelta(hours=4), interval_seconds=hourly))
    result = runner.invoke(app, ["health", "--file", str(path)])
    assert result.exit_code == 1 and "is the bot running?" in result.output

    hostile = FetchOutcome(datetime.now(UTC), False, 0, "[bold red]HTTP 503[/] \x1b[2J")
    write_heartbeat(
        path,
        beat(
            written_at=datetime.now(UTC),
            last_tick=datetime.now(UTC),
            interval_seconds=hourly,
            fetches={"hf": hostile},
        ),
    )
    result = runner.invoke(app, ["health", "--file", str(path)])
    assert result.exit_code == 0 and "[bold red]HTTP 503[/]" in result.output and "\x1b" not in result.output

    path.write_text(json.dumps({"written_at": "yesterday"}))
    assert runner.invoke(app, ["health", "--file", str(path)]).exit_code == 1
    assert runner.invoke(app, ["health", "--file", str(tmp_path / "missing.json")]).exit_code == 1


@pytest.mark.parametrize("kind", ["fifo", "device", "folder", "huge"])
async def test_a_heartbeat_path_that_is_no_heartbeat_file_is_unhealthy_at_once(
    tmp_path: Path, kind: str
) -> None:
    """`paperbot health --file` on a named pipe waited for a writer for ever, and on /dev/zero read
    until memory ran out (a HEALTHCHECK that never answers): anything but a regular file of at most
    a heartbeat's size is one line, exit 1, at once."""
    path = tmp_path / "heartbeat.json"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    else:
        fresh = beat(written_at=datetime.now(UTC), last_tick=datetime.now(UTC), interval_seconds=3600)
        path.write_text(fresh.to_json() + " " * MAX_HEARTBEAT_BYTES, encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "health", "--file", str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    said = stderr.decode()
    assert process.returncode == 1, said
    assert said.startswith(f"✘ heartbeat {path}: unreadable (") and said.count("\n") == 1, said
