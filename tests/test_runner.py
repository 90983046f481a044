"""`paperbot run` keeps what start-up built out of the cyclic collector's scans before it connects,
so a full collection under load pauses the loop for what serving allocated, not for the whole heap."""

from __future__ import annotations

import gc
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot import runner
from bot.client import PaperBot
from bot.errors import DiskFull
from bot.health import Finding, HealthState, assess, read_heartbeat
from bot.repeating_failure import RepeatingFailures
from bot.services.container import open_services
from bot.settings import Settings
from tests.backends import postgres_server, postgres_url  # noqa: F401 (fixtures)
from tests.services.test_digest_store_outage import admits


async def test_the_startup_heap_is_frozen_before_the_bot_connects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(db=tmp_path / "bot.db", discord_token="not-a-token", digest={"scheduler": False})
    frozen_at_connect: list[int] = []
    thresholds_at_connect: list[tuple[int, int, int]] = []
    before = gc.get_threshold()

    async def start(self: PaperBot, token: str, *, reconnect: bool = True) -> None:
        frozen_at_connect.append(gc.get_freeze_count())
        thresholds_at_connect.append(gc.get_threshold())

    monkeypatch.setattr(PaperBot, "start", start)
    try:
        async with open_services(settings, warm=False) as services:
            await runner._serve(services, settings)
    finally:
        gc.unfreeze()  # the test process goes on collecting as before
        gc.set_threshold(*before)
    assert frozen_at_connect and frozen_at_connect[0] > 0
    # Young collections far less often than Python's every 700 allocations (fewer promotions).
    assert thresholds_at_connect == [runner.COLLECTION_THRESHOLDS]


def test_malloc_arenas_are_limited_unless_the_operator_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []

    class Libc:
        def mallopt(self, parameter: int, value: int) -> int:
            calls.append((parameter, value))
            return 1

    monkeypatch.setattr(runner.ctypes, "CDLL", lambda name: Libc())
    monkeypatch.setattr(runner.sys, "platform", "linux")
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert runner.limit_malloc_arenas() and calls == [(runner.M_ARENA_MAX, runner.MALLOC_ARENAS)]
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")  # the operator's own choice wins
    assert not runner.limit_malloc_arenas() and len(calls) == 1


def test_without_glibc_the_arena_limit_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_glibc(name: str) -> None:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(runner.ctypes, "CDLL", no_glibc)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert not runner.limit_malloc_arenas()


async def test_the_heartbeat_of_a_bot_whose_store_refuses_writes_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_papers: list
) -> None:
    """`paperbot health` printed "healthy" while every write failed on a full disk."""
    heartbeat = tmp_path / "heartbeat.json"
    settings = Settings(
        db=tmp_path / "bot.db",
        discord_token="not-a-token",
        digest={"scheduler": False},
        health={"file": heartbeat},
    )
    stores: list[str] = []

    async def start(self: PaperBot, token: str, *, reconnect: bool = True) -> None:
        database = services.database
        async with database.connection.execute("PRAGMA page_count") as cursor:
            pages = (await cursor.fetchone())[0]
        await database.writer.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(DiskFull):
            await services.papers.ingest(sample_papers)
        await runner._beat(self, services, settings)
        stores.extend(f.detail for f in assess_now() if f.name == "store" and not f.ok)
        await database.writer.execute(f"PRAGMA max_page_count = {pages * 100}")
        await services.papers.ingest(sample_papers)
        await runner._beat(self, services, settings)
        stores.extend(f.detail for f in assess_now() if f.name == "store" and f.ok)

    def assess_now() -> list[Finding]:
        return assess(read_heartbeat(heartbeat), datetime.now(UTC), disconnect_grace=timedelta(minutes=3))

    monkeypatch.setattr(PaperBot, "start", start)
    monkeypatch.setattr(runner, "freeze_startup_heap", lambda: None)
    async with open_services(settings, warm=False) as services:
        await runner._serve(services, settings)
    assert len(stores) == 2
    assert stores[0].startswith("refusing writes since") and "disk holding the database is full" in stores[0]
    assert stores[1] == "writable"


async def test_a_heartbeat_that_cannot_be_written_is_one_warning_not_one_a_beat(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # the heartbeat's folder cannot be made: every write fails as on a full disk
    heartbeat = blocker / "heartbeat.json"
    settings = Settings(db=tmp_path / "bot.db", discord_token="not-a-token", health={"file": heartbeat})
    bot = SimpleNamespace(health=HealthState(tick_seconds=60))  # all a beat reads of the bot
    failing = RepeatingFailures(runner.log)  # what the heartbeat loop keeps across its beats
    with caplog.at_level(logging.INFO, logger="bot.runner"):
        async with open_services(settings, warm=False) as services:
            for _ in range(20):
                await runner._beat(bot, services, settings, failing=failing)  # type: ignore[arg-type]
            blocker.unlink()  # space again
            await runner._beat(bot, services, settings, failing=failing)  # type: ignore[arg-type]
    logged = [
        (r.levelname, r.getMessage(), r.exc_info) for r in caplog.records if "heartbeat" in r.getMessage()
    ]
    assert [(level, text.split(":")[0], trace) for level, text, trace in logged] == [
        ("WARNING", f"writing the heartbeat to {heartbeat} failed", None),
        ("INFO", f"writing the heartbeat to {heartbeat} works again after 20 failed tries in 0 s", None),
    ]
    assert read_heartbeat(heartbeat).pid == os.getpid()


async def test_the_heartbeat_goes_on_while_the_postgres_store_is_down_and_says_the_store_is_why(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    postgres_url: str,  # noqa: F811
) -> None:
    """PostgreSQL restarting under running bots: the heartbeat failed as a whole (it reads the last
    fetches), so after 90 s `paperbot health` said "is the bot running?" and "store: writable", and
    a supervisor acting on it restarted every bot over an outage that no restart fixes."""
    heartbeat = tmp_path / "heartbeat.json"
    settings = Settings(
        database={"url": postgres_url},
        discord_token="not-a-token",
        digest={"scheduler": False},
        health={"file": heartbeat},
    )
    seen: list[list[Finding]] = []

    def assess_now() -> list[Finding]:
        return assess(read_heartbeat(heartbeat), datetime.now(UTC), disconnect_grace=timedelta(minutes=3))

    async def start(self: PaperBot, token: str, *, reconnect: bool = True) -> None:
        await admits(postgres_url, False)
        try:
            heartbeat.unlink()
            await runner._beat(self, services, settings)
            seen.append(assess_now())
        finally:
            await admits(postgres_url, True)
        await runner._beat(self, services, settings)
        seen.append(assess_now())

    monkeypatch.setattr(PaperBot, "start", start)
    monkeypatch.setattr(runner, "freeze_startup_heap", lambda: None)
    async with open_services(settings, warm=False) as services:
        await runner._serve(services, settings)
    down, back = ({f.name: f for f in findings} for findings in seen)
    assert down["heartbeat"].ok  # written: the process lives
    assert not down["store"].ok and "the store cannot be read" in down["store"].detail
    assert back["store"].ok and back["store"].detail == "writable"
