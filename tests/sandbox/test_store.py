"""The sandbox resets only a database it made, and deletes only that database's own files."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.sandbox.store import (
    NotASandboxStore,
    SandboxBusy,
    is_sandbox_store,
    lock_path,
    reset_sandbox_store,
    sandbox_session,
)

NEIGHBOURS = ("paperbot.db.bak", "paperbot.db-notes.txt", "paperbot.db2", "paperbot.dbx-wal")


def _neighbours(folder: Path) -> dict[str, bytes]:
    found = {}
    for name in NEIGHBOURS:
        (folder / name).write_bytes(f"keep {name}".encode())
        found[name] = (folder / name).read_bytes()
    return found


def _real_store(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE papers (id TEXT)")
        conn.execute("INSERT INTO papers VALUES ('2510.00001')")
    conn.close()


def _not_sandbox(path: Path, kind: str) -> None:
    if kind == "real store":
        _real_store(path)
    elif kind == "text file":
        path.write_text("my notes\n")
    elif kind == "empty file":
        path.write_bytes(b"")
    elif kind == "directory":
        path.mkdir()
    elif kind == "sqlite header, garbage after":
        path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)


KINDS = ("real store", "text file", "empty file", "directory", "sqlite header, garbage after")


@pytest.mark.parametrize("kind", KINDS)
def test_a_path_the_sandbox_did_not_make_is_refused_and_nothing_is_deleted(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "paperbot.db"
    _not_sandbox(path, kind)
    before = _neighbours(tmp_path)
    with pytest.raises(NotASandboxStore):
        reset_sandbox_store(path)
    assert path.exists()
    assert {name: (tmp_path / name).read_bytes() for name in NEIGHBOURS} == before
    if kind == "real store":
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT id FROM papers").fetchall() == [("2510.00001",)]
        conn.close()


def test_a_sandbox_store_is_reset_with_only_its_own_companion_files(tmp_path: Path) -> None:
    path = tmp_path / "paperbot.db"
    reset_sandbox_store(path)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE papers (id TEXT)")
    conn.close()
    for suffix in ("-wal", "-shm", "-journal"):
        (tmp_path / f"paperbot.db{suffix}").write_bytes(b"")
    before = _neighbours(tmp_path)
    reset_sandbox_store(path)
    assert is_sandbox_store(path)
    with sqlite3.connect(path) as conn:  # afresh: what the last run wrote is gone
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert tables == {"paperbot_sandbox"}
    assert not any((tmp_path / f"paperbot.db{s}").exists() for s in ("-wal", "-journal"))
    assert {name: (tmp_path / name).read_bytes() for name in NEIGHBOURS} == before


def test_a_missing_path_is_made_and_marked(tmp_path: Path) -> None:
    path = tmp_path / "new" / "sandbox.db"
    reset_sandbox_store(path)
    assert is_sandbox_store(path)


def test_an_orphan_wal_beside_a_missing_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sandbox.db-wal").write_bytes(b"someone's wal")
    with pytest.raises(NotASandboxStore, match=r"sandbox\.db-wal"):
        reset_sandbox_store(tmp_path / "sandbox.db")
    assert (tmp_path / "sandbox.db-wal").read_bytes() == b"someone's wal"


def test_cli_sandbox_refuses_a_real_store_and_keeps_every_file_beside_it(tmp_path: Path) -> None:
    runner = CliRunner()
    store = tmp_path / "paperbot.db"
    assert runner.invoke(app, ["ingest", "--db", str(store)]).exit_code == 0
    before = _neighbours(tmp_path)
    result = runner.invoke(app, ["sandbox", "--db", str(store), "--tour"])
    assert result.exit_code == 2
    assert "not a sandbox database" in result.output
    assert {name: (tmp_path / name).read_bytes() for name in NEIGHBOURS} == before
    stats = runner.invoke(app, ["stats", "--json", "--db", str(store)])
    assert '"papers": 69' in stats.output


def _running_sandbox_store(path: Path) -> None:
    """What a running sandbox has made: its marked database with something written in it."""
    reset_sandbox_store(path)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE papers (id TEXT)")
        conn.execute("INSERT INTO papers VALUES ('running')")
    conn.close()


def _still_running(path: Path) -> bool:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT id FROM papers").fetchall()
    conn.close()
    return rows == [("running",)]


def test_a_second_lock_holder_on_the_same_path_is_refused_until_the_first_ends(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    with sandbox_session(path):
        _running_sandbox_store(path)
        with pytest.raises(SandboxBusy, match="a sandbox is already running on"), sandbox_session(path):
            reset_sandbox_store(path)  # pragma: no cover - never reached
        assert _still_running(path)
        assert lock_path(path).exists()  # the refused one leaves the holder's lock file alone
    assert not lock_path(path).exists()  # deleted by its holder when the session ends
    with sandbox_session(path):  # and the path is free again
        reset_sandbox_store(path)
    assert is_sandbox_store(path)


def test_a_stale_lock_file_left_by_a_killed_sandbox_does_not_block(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    with sandbox_session(path):
        stale = lock_path(path).read_bytes()
    lock_path(path).write_bytes(stale)  # as a sandbox killed before its clean-up leaves it
    with sandbox_session(path):
        reset_sandbox_store(path)
    assert not lock_path(path).exists()


def test_a_lock_path_holding_someone_elses_file_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    lock_path(path).write_text("my notes\n")
    with pytest.raises(NotASandboxStore, match=r"sandbox\.db\.lock"), sandbox_session(path):
        pass  # pragma: no cover - never reached
    assert lock_path(path).read_text() == "my notes\n"


def test_a_second_sandbox_process_refuses_in_one_line_and_deletes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    with sandbox_session(path):  # this process is the running sandbox
        _running_sandbox_store(path)
        second = subprocess.run(
            [sys.executable, "-m", "bot", "sandbox", "--tour", "--db", str(path)],
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
        assert second.returncode == 2
        assert second.stderr.strip().splitlines() == [f"error: a sandbox is already running on {path}"]
        assert _still_running(path)
        assert lock_path(path).exists()


def test_the_quick_start_says_the_sandbox_has_its_own_database_and_how_to_add_papers() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    quick_start = readme[readme.index("## Quick start") : readme.index("## Running the bot on Discord")]
    assert "The sandbox never uses `data/paperbot.db`" in quick_start
    assert "`data/sandbox.db`" in quick_start and "`ingest FILE...`" in quick_start
