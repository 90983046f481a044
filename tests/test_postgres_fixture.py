"""The embedded PostgreSQL of the test fixture: a session killed with SIGKILL leaves its server
running, and the next session stops it; a live session's server and unrelated processes are left
alone. The wheel's runtime folder is named, so no third-party warning shows in every run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.postgres_server import FOLDER_PREFIX, OWNER_FILE, reap_stale_servers

# Default dispositions first: a child of a shell's background job inherits SIGINT and SIGQUIT
# ignored (CI scripts, nohup), and then never stops when the reaper sends SIGQUIT as it would to a
# postmaster (which installs its own handlers).
WAIT = (
    "import signal; "
    "[signal.signal(s, signal.SIG_DFL) for s in (signal.SIGQUIT, signal.SIGTERM, signal.SIGINT)]; "
    "signal.pause()"
)


def _dead_pid() -> int:
    # The pid of a shell that has exited (a pid is only reused after the counter wraps).
    return int(subprocess.run(["sh", "-c", "echo $$"], capture_output=True, check=True).stdout)


def _session_folder(parent: Path, name: str, owner: int, postmaster: int | None) -> Path:
    folder = parent / (FOLDER_PREFIX + name)
    (folder / "data").mkdir(parents=True)
    (folder / OWNER_FILE).write_text(str(owner))
    if postmaster is not None:
        (folder / "data" / "postmaster.pid").write_text(f"{postmaster}\n{folder / 'data'}\n")
    return folder


def _server_like(data: Path) -> subprocess.Popen[bytes]:
    """A process whose command line names ``data`` as its data directory, as a postmaster's does."""
    return subprocess.Popen([sys.executable, "-c", WAIT, "-D", str(data)], preexec_fn=_default_signals)


def _default_signals() -> None:
    # Before exec, so the reaper's SIGQUIT cannot arrive while the child still ignores it.
    for number in (signal.SIGQUIT, signal.SIGTERM, signal.SIGINT):
        signal.signal(number, signal.SIG_DFL)


def test_a_killed_sessions_server_is_stopped_and_its_folder_removed(tmp_path: Path) -> None:
    data = tmp_path / (FOLDER_PREFIX + "killed") / "data"
    server = _server_like(data)
    folder = _session_folder(tmp_path, "killed", _dead_pid(), server.pid)
    assert reap_stale_servers(tmp_path) == [folder]
    assert server.wait(timeout=60) == -signal.SIGQUIT
    assert not folder.exists()


def test_a_live_sessions_server_and_unrelated_processes_are_left_alone(tmp_path: Path) -> None:
    live_data = tmp_path / (FOLDER_PREFIX + "live") / "data"
    live_server = _server_like(live_data)
    live = _session_folder(tmp_path, "live", os.getpid(), live_server.pid)
    unrelated = _server_like(tmp_path / "elsewhere")  # the pid a stale pid file names, reused
    stale = _session_folder(tmp_path, "stale", _dead_pid(), unrelated.pid)
    unmarked = tmp_path / (FOLDER_PREFIX + "starting")  # a session between mkdtemp and its mark
    unmarked.mkdir()
    try:
        assert reap_stale_servers(tmp_path) == [stale]
        assert live.exists() and unmarked.exists()
        assert live_server.poll() is None and unrelated.poll() is None
    finally:
        for process in (live_server, unrelated):
            process.kill()
            process.wait()


def test_loading_the_embedded_server_gives_no_runtime_folder_warning(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    script = "from tests.postgres_server import _embedded_postgres; _embedded_postgres()"
    run = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        env=environment,
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
