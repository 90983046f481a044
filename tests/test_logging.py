"""Log output: plain lines by default, JSON lines on request, a rotating file when asked, and every
line of an interaction (command or button) carrying its server and command."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.logging_context import configure, set_context
from bot.settings import Settings


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        handler.close()
    root.handlers[:], root.level = handlers, level


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]  # every line must parse on its own


def test_json_lines_parse_one_by_one_even_with_tracebacks_and_hostile_text(restore_logging: None) -> None:
    stream = io.StringIO()
    configure("INFO", format="json", stream=stream)
    log = logging.getLogger("paperbot.test")
    log.info("started")
    set_context(guild=42, user=7, command="papers search")
    log.warning('quote " newline \n and @everyone ‮')
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    set_context(guild=None, user=7, command="help")
    log.info("in a dm")

    started, warned, failed, in_dm = json_lines(stream.getvalue())
    assert started["message"] == "started" and started["level"] == "INFO" and "guild" not in started
    assert started["logger"] == "paperbot.test" and started["time"].endswith("+00:00")
    assert warned["message"] == 'quote " newline \n and @everyone ‮'
    assert (warned["guild"], warned["user"], warned["command"]) == (42, 7, "papers search")
    assert "ValueError: boom" in failed["exception"] and failed["level"] == "ERROR"
    assert in_dm["guild"] == "dm" and in_dm["command"] == "help"


def test_plain_lines_are_the_default_and_carry_the_context(restore_logging: None) -> None:
    stream = io.StringIO()
    configure("INFO", stream=stream)
    set_context(guild=42, user=7, command="follow add")
    logging.getLogger("paperbot.test").info("hello")
    assert "INFO paperbot.test [guild=42 user=7 command=follow add] hello" in stream.getvalue()


def test_a_log_file_rotates_and_keeps_the_configured_backups(restore_logging: None, tmp_path: Path) -> None:
    path = tmp_path / "logs" / "paperbot.log"
    configure("INFO", format="json", file=path, max_bytes=1000, backups=2, stream=io.StringIO())
    for number in range(100):
        logging.getLogger("paperbot.test").info("line %03d", number)
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "paperbot.log",
        "paperbot.log.1",
        "paperbot.log.2",
    ]
    assert all(p.stat().st_size <= 1000 for p in path.parent.iterdir())
    assert json_lines(path.read_text())[-1]["message"] == "line 099"  # the newest is in the live file


def test_log_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PAPERBOT_LOG__FORMAT", "json")
    monkeypatch.setenv("PAPERBOT_LOG__FILE", str(tmp_path / "bot.log"))
    settings = Settings()
    assert settings.log.format == "json" and settings.log.file == tmp_path / "bot.log"
    monkeypatch.setenv("PAPERBOT_LOG__FORMAT", "xml")
    with pytest.raises(ValueError, match="plain"):
        Settings()


def test_an_unwritable_log_file_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOT_", "DISCORD_"))}
    env |= {"PAPERBOT_LOG__FILE": str(blocker / "paperbot.log"), "DISCORD_TOKEN": "unused"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "cannot write the log file" in done.stderr
    assert "Traceback" not in done.stderr


def _scheduler_tick_lines() -> None:
    """What apscheduler's executor says for every run of the digest tick (every minute)."""
    runs = logging.getLogger("apscheduler.executors.default")
    runs.info('Running job "Digest.post_due (trigger: interval[0:01:00])" (scheduled at 06:00:00)')
    runs.info('Job "Digest.post_due (trigger: interval[0:01:00])" executed successfully')
    # A tick while the previous run still goes (a fan-out longer than a minute): the run in hand
    # does its work, yet apscheduler warns each minute.
    logging.getLogger("apscheduler.scheduler").warning(
        'Execution of job "Digest.post_due (trigger: interval[0:01:00], next run at: 06:01:00 UTC)" '
        "skipped: maximum number of running instances reached (1)"
    )


@pytest.fixture
def restore_scheduler_level() -> Iterator[None]:
    runs = logging.getLogger("apscheduler.executors")
    level = runs.level
    yield
    runs.setLevel(level)


def test_scheduler_runs_are_quiet_at_info_but_a_failed_run_still_shows(
    restore_logging: None, restore_scheduler_level: None, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from bot.cli import _configure_logging

    monkeypatch.delenv("PAPERBOT_LOG__SCHEDULER_LEVEL", raising=False)
    _configure_logging(Settings())
    _scheduler_tick_lines()
    logging.getLogger("apscheduler.executors.default").error('Job "Digest.post_due" raised an exception')
    logging.getLogger("bot.services.digest").info("posted the digest")
    err = capsys.readouterr().err
    assert "Running job" not in err and "executed successfully" not in err
    assert "maximum number of running instances" not in err
    assert "raised an exception" in err and "posted the digest" in err


def test_scheduler_runs_can_be_shown_again_from_the_log_settings(
    restore_logging: None, restore_scheduler_level: None, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from bot.cli import _configure_logging

    monkeypatch.setenv("PAPERBOT_LOG__SCHEDULER_LEVEL", "info")
    _configure_logging(Settings())
    _scheduler_tick_lines()
    err = capsys.readouterr().err
    assert "Running job" in err and "executed successfully" in err
    assert "maximum number of running instances" in err
    monkeypatch.setenv("PAPERBOT_LOG__SCHEDULER_LEVEL", "chatty")
    with pytest.raises(ValueError, match="WARNING"):
        Settings()
