"""`paperbot doctor` lists which process runs which shards of the store, and says when a
`paperbot run` with its settings would be refused beside them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.domain.shards import ShardPlan
from bot.services.shard_claims import ShardClaims
from bot.storage.database import Database
from bot.storage.repositories import Repositories

runner = CliRunner()


async def claim(db: Path, plan: ShardPlan, owner: str, servers: dict[int, int] | None = None) -> None:
    database = await Database.open(db)
    try:
        now = datetime.now(UTC)
        claims = ShardClaims(database, Repositories.of(database).shard_claims, plan, owner, clock=lambda: now)
        await claims.claim()
        if servers is not None:
            await claims.count_servers(servers)
    finally:
        await database.close()


def doctor_line(db: Path, monkeypatch: pytest.MonkeyPatch, *env: tuple[str, str]) -> str:
    monkeypatch.setenv("PAPERBOT_SOURCES__HF_API_URL", "http://127.0.0.1:9/daily_papers")
    for name, value in env:
        monkeypatch.setenv(name, value)
    output = runner.invoke(app, ["doctor", "--db", str(db)]).output
    return next(line for line in output.splitlines() if "running shards" in line)


def test_doctor_names_the_processes_and_their_shards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "p.db"
    assert runner.invoke(app, ["ingest", "--db", str(db)]).exit_code == 0
    assert doctor_line(db, monkeypatch) == "✔ running shards: no process runs any shard of this store now"
    asyncio.run(claim(db, ShardPlan(3, (0, 1)), "machine-a:101:0000abcd"))
    asyncio.run(claim(db, ShardPlan(3, (2,)), "machine-b:202:0000abcd", servers={2: 7}))
    line = doctor_line(db, monkeypatch)
    assert line.startswith(
        "! running shards: 3 shards: shards 0-1 by machine-a:101:0000abcd (claimed until "
    ), line
    assert "; shard 2 by machine-b:202:0000abcd (claimed until " in line
    assert " UTC, 7 servers); " in line and line.count("servers") == 1  # what each holder counted
    assert line.endswith("; `paperbot run` here (all shards) would be refused")
    line = doctor_line(db, monkeypatch, ("PAPERBOT_SHARD_COUNT", "3"), ("PAPERBOT_SHARDS", "1-2"))
    assert line.endswith("; `paperbot run` here would be refused: shards 1-2 taken"), line


def test_doctor_fails_when_shards_of_the_layout_run_in_no_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three processes over 6 shards, the third stopped: its servers get nothing, and every running
    # process is healthy, so doctor is where an operator must read it.
    db = tmp_path / "p.db"
    assert runner.invoke(app, ["ingest", "--db", str(db)]).exit_code == 0
    asyncio.run(claim(db, ShardPlan(6, (0, 1)), "machine-a:101:0000abcd"))
    asyncio.run(claim(db, ShardPlan(6, (2, 3)), "machine-b:202:0000abcd"))
    line = doctor_line(db, monkeypatch)
    assert line.startswith("✘ running shards: 6 shards: shards 0-1 by machine-a"), line
    assert line.endswith(
        "; shards 4-5 of 6 run in no process: their servers get no digest and no command answer. "
        "Start `paperbot run --shard-count 6 --shards 4-5`"
    ), line
    asyncio.run(claim(db, ShardPlan(6, (4, 5)), "machine-c:303:0000abcd"))
    assert "run in no process" not in doctor_line(db, monkeypatch)
