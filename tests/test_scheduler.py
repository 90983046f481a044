from __future__ import annotations

from datetime import UTC, datetime, time

from bot.domain.schedule import DigestConfig
from bot.scheduler import DigestScheduler, post_trigger


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


async def test_jobs_follow_servers_without_a_restart() -> None:
    scheduler = DigestScheduler(post_due=nothing)
    scheduler.start([config(guild_id=1), config(guild_id=2, timezone="America/New_York")])
    try:
        runs = scheduler.next_runs()
        assert {"tick", "post:1", "post:2"} == set(runs)  # fetching is the bot-wide source schedule
        assert runs["post:2"].tzinfo is not None and runs["post:2"].hour == 9
        scheduler.upsert(config(guild_id=1, post_time=time(17, 30)))
        assert (scheduler.next_runs()["post:1"].hour, scheduler.next_runs()["post:1"].minute) == (17, 30)
        scheduler.upsert(config(guild_id=2, paused=True))
        assert "post:2" not in scheduler.next_runs()
        scheduler.remove(1)
        assert set(scheduler.next_runs()) == {"tick"}
    finally:
        scheduler.shutdown()
