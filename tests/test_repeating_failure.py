"""A failure that a timer retries is logged as a spell: a line when it starts, a reminder every
ten minutes while it lasts, a line when it clears; a traceback only where it is news."""

from __future__ import annotations

import logging

import pytest

from bot.errors import DiskFull
from bot.repeating_failure import RepeatingFailures

log = logging.getLogger("tests.repeating")


def messages(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str, bool]]:
    return [(r.levelno, r.getMessage(), r.exc_info is not None) for r in caplog.records]


def test_an_expected_failure_every_tick_logs_a_start_a_reminder_and_an_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    failures = RepeatingFailures(log, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger=log.name):
        for _ in range(1202):  # ten minutes of a 0.5 s tick on a full disk
            failures.failed("digest for guild 1", DiskFull())
            now[0] += 0.5
        failures.succeeded("digest for guild 1")
        failures.succeeded("digest for guild 1")  # working as usual: nothing to say
    full = "The disk holding the database is full: nothing was saved. Free some space."
    assert messages(caplog) == [
        (
            logging.WARNING,
            f"digest for guild 1 failed: {full} (retrying; logged again only as a reminder every 10 min"
            " or when it works)",
            False,
        ),
        (logging.WARNING, f"digest for guild 1 still failing (1201 tries in 10 min): {full}", False),
        (logging.INFO, "digest for guild 1 works again after 1202 failed tries in 10 min", False),
    ]


def test_an_unexpected_failure_keeps_its_traceback_once_and_a_new_reason_is_a_new_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures = RepeatingFailures(log, clock=lambda: 0.0)
    with caplog.at_level(logging.INFO, logger=log.name):
        for _ in range(3):
            failures.failed("alert delivery", KeyError("guild"))
        failures.failed("alert delivery", DiskFull())
    logged = messages(caplog)
    assert [(level, text.split(" (retrying")[0], trace) for level, text, trace in logged] == [
        (logging.WARNING, "alert delivery failed: KeyError: 'guild'", True),
        (logging.WARNING, f"alert delivery failed: {DiskFull()}", False),
    ]


def test_each_key_is_its_own_spell(caplog: pytest.LogCaptureFixture) -> None:
    failures = RepeatingFailures(log, clock=lambda: 0.0)
    with caplog.at_level(logging.INFO, logger=log.name):
        failures.failed("digest a", DiskFull(), key="a")
        failures.failed("digest b", DiskFull(), key="b")
        failures.succeeded("digest a", key="a")
        failures.failed("digest b", DiskFull(), key="b")
    assert [text.split(" (")[0].split(":")[0] for _, text, _ in messages(caplog)] == [
        "digest a failed",
        "digest b failed",
        "digest a works again after 1 failed tries in 0 s",
    ]
