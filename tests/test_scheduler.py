from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, time, timedelta

import pytest

from bot.domain.schedule import Cadence, DigestConfig
from bot.scheduler import DigestScheduler, SourceSchedule, job_id, post_trigger


async def nothing() -> None:
    return None


def config(**kw: object) -> DigestConfig:
    base: dict[str, object] = {
        "guild_id": 1,
        "channel_id": 2,
        "post_time": time(9, 0),
        "timezone": "Europe/Berlin",
    }
    return DigestConfig(**{**base, **kw})  # type: ignore[arg-type]


def test_triggers_fire_at_local_time_across_dst() -> None:
    trigger = post_trigger(config())
    first = trigger.get_next_fire_time(None, datetime(2026, 3, 28, 12, tzinfo=UTC))
    second = trigger.get_next_fire_time(first, first.replace(minute=1))
    assert [first.astimezone(UTC).hour, second.astimezone(UTC).hour] == [7, 7]  # 29 and 30 March, CEST
    assert first.hour == second.hour == 9
    weekdays = post_trigger(config(weekdays_only=True))
    saturday = datetime(2026, 1, 3, 12, tzinfo=UTC)
    assert weekdays.get_next_fire_time(None, saturday).date().isoformat() == "2026-01-05"
    weekly = post_trigger(config(cadence=Cadence.WEEKLY, weekday=2))  # Wednesdays
    monday = datetime(2026, 1, 5, 12, tzinfo=UTC)
    assert weekly.get_next_fire_time(None, monday).date().isoformat() == "2026-01-07"


async def test_jobs_follow_digests_without_a_restart() -> None:
    scheduler = DigestScheduler(post_due=nothing)
    topic = config(guild_id=1, channel_id=3, post_time=time(18, 0))  # a second channel, same server
    scheduler.start([config(guild_id=1), topic, config(guild_id=2, timezone="America/New_York")])
    try:
        runs = scheduler.next_runs()
        # one job per (server, channel); fetching is the bot-wide source schedule
        assert {"tick", "post:1:2", "post:1:3", "post:2:2"} == set(runs)
        assert runs["post:2:2"].tzinfo is not None and runs["post:2:2"].hour == 9
        assert runs["post:1:3"].hour == 18
        scheduler.upsert(config(guild_id=1, post_time=time(17, 30)))
        moved = scheduler.next_runs()["post:1:2"]
        assert (moved.hour, moved.minute) == (17, 30) and scheduler.next_runs()["post:1:3"].hour == 18
        scheduler.upsert(config(guild_id=2, paused=True))
        assert "post:2:2" not in scheduler.next_runs()
        scheduler.remove(1, 2)
        scheduler.remove(1, 3)
        assert set(scheduler.next_runs()) == {"tick"}
    finally:
        await scheduler.stop()


async def test_a_start_with_many_servers_schedules_each_once_without_looking_for_old_jobs() -> None:
    # Each lookup scans apscheduler's jobs pending the start: one per server made the start
    # quadratic, and 10,000 servers held the event loop (and the gateway) for a minute.
    scheduler = DigestScheduler(post_due=nothing)
    lookups = 0
    real = scheduler._scheduler.remove_job

    def counting(job_id: str, jobstore: str | None = None) -> None:
        nonlocal lookups
        lookups += 1
        real(job_id, jobstore)

    scheduler._scheduler.remove_job = counting  # type: ignore[method-assign]
    configs = [config(guild_id=guild, paused=guild % 10 == 0) for guild in range(1, 2001)]
    scheduler.start(configs)
    try:
        runs = scheduler.next_runs()
        assert set(runs) == {"tick"} | {job_id(c.guild_id, c.channel_id) for c in configs if not c.paused}
        assert lookups == 0
    finally:
        await scheduler.stop()


async def test_a_stop_while_a_run_is_in_flight_cancels_it_without_a_logged_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A SIGTERM mid-fetch: the run is cancelled and the stop waits until it has ended, with no
    "Job ... raised an exception" traceback (apscheduler's shutdown alone logged one)."""
    started, ended = asyncio.Event(), asyncio.Event()
    never = asyncio.Event()

    async def fetch() -> None:
        started.set()
        try:
            await never.wait()  # a source mid-answer
        finally:
            ended.set()

    schedule = SourceSchedule(fetch, check=timedelta(hours=1))
    schedule.start()  # the first check runs at once
    await started.wait()
    with caplog.at_level(logging.DEBUG):
        await schedule.stop()
    assert ended.is_set()
    assert [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info] == []


async def test_a_stop_while_a_post_is_in_flight_cancels_it_without_a_logged_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started, ended = asyncio.Event(), asyncio.Event()

    async def post_due() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            ended.set()

    scheduler = DigestScheduler(post_due=post_due, tick=timedelta(hours=1))
    scheduler.start([])
    scheduler._scheduler.modify_job("tick", next_run_time=datetime.now(UTC))  # the tick, due now
    await started.wait()
    with caplog.at_level(logging.DEBUG):
        await scheduler.stop()
    assert ended.is_set()
    assert [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info] == []
