"""`paperbot restore BACKUP`: a backup put back in place of the store, never mixed with what the
crashed run left beside it, never while a process has the store open, never from a bad copy."""

from __future__ import annotations

import errno
import itertools
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.storage import restore as restore_module

runner = CliRunner()

# A `paperbot run` killed mid-flight (the OOM killer): it committed an edit that is only in the
# -wal file, never checkpointed into the store.
CRASHED_RUN = """
import os, signal, sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
connection.execute("PRAGMA wal_autocheckpoint = 0")
connection.execute("UPDATE papers SET title = title || ' (edited)'")
connection.commit()
os.kill(os.getpid(), signal.SIGKILL)
"""

# A process that keeps the store open (as a running bot does) until its stdin closes.
HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
connection.execute("SELECT count(*) FROM papers").fetchone()
print("open", flush=True)
sys.stdin.read()
"""


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def titles(path: Path) -> list[str]:
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as connection:
        return [row[0] for row in connection.execute("SELECT title FROM papers ORDER BY id")]


def integrity(path: Path) -> str:
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])


@pytest.fixture
def crashed(tmp_path: Path) -> tuple[Path, Path]:
    """A store with a crashed run's -wal beside it, and a backup made before the crash."""
    store, backup = tmp_path / "p.db", tmp_path / "backup.db"
    assert run("ingest", "--db", str(store))[0] == 0
    assert run("backup", str(backup), "--db", str(store))[0] == 0
    killed = subprocess.run([sys.executable, "-c", CRASHED_RUN, str(store)], check=False)
    assert killed.returncode < 0 and Path(f"{store}-wal").stat().st_size > 0
    return store, backup


def test_the_plain_copy_the_readme_used_to_leave_people_with_is_not_the_backup(
    crashed: tuple[Path, Path],
) -> None:
    """Why a command: copying the backup over the store replays the crashed run's log onto it."""
    store, backup = crashed
    shutil.copyfile(backup, store)
    assert titles(store) != titles(backup)
    assert all(title.endswith("(edited)") for title in titles(store))


def test_restore_puts_the_backup_back_and_keeps_the_crashed_store(crashed: tuple[Path, Path]) -> None:
    store, backup = crashed
    before = titles(backup)
    code, output = run("restore", str(backup), "--db", str(store))
    assert code == 0, output
    kept = store.with_name("p.db.before-restore")
    assert output == (
        f"Restored {backup} into {store}: schema version {restore_module.latest_schema()}, 69 papers; "
        f"the previous store is kept as {kept}. Start the bot; `paperbot doctor` checks it."
    )
    assert titles(store) == before and integrity(store) == "ok"
    assert not Path(f"{store}-wal").exists() and not Path(f"{store}-shm").exists()
    # The old store, its crashed run's edit folded in, nothing of it lost.
    assert all(title.endswith("(edited)") for title in titles(kept)) and integrity(kept) == "ok"
    code, output = run("search", "pruning", "--db", str(store))
    assert code == 0 and "(edited)" not in output
    # A second restore would overwrite that kept copy: it says so and changes nothing.
    code, output = run("restore", str(backup), "--db", str(store))
    assert (code, output) == (
        1,
        f"error: {kept} exists (an earlier restore's old store): move or delete it, then restore again "
        f"(the backup itself is good: schema version {restore_module.latest_schema()}, 69 papers)",
    )
    assert not store.with_name("p.db.restoring").exists()


def test_restore_onto_a_machine_without_a_store(tmp_path: Path, crashed: tuple[Path, Path]) -> None:
    _, backup = crashed
    fresh = tmp_path / "new" / "paperbot.db"
    fresh.parent.mkdir()
    code, output = run("restore", str(backup), "--db", str(fresh))
    assert code == 0 and "previous store" not in output
    assert titles(fresh) == titles(backup)


def _leave(store: Path, *, wal: bool, shm: bool, kept_file: bool, earlier: bool) -> None:
    """Shape what a crash and an admin's hands left beside the store (from the crashed fixture:
    the store, its -wal holding the crashed run's edit, its -shm)."""
    if not wal:  # a clean stop: the edit folded into the store, the log gone
        with closing(sqlite3.connect(store)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert not Path(f"{store}-wal").exists()
    if shm and not Path(f"{store}-shm").exists():
        Path(f"{store}-shm").write_bytes(b"\0" * 32768)
    if not shm:
        Path(f"{store}-shm").unlink(missing_ok=True)
    if earlier:
        shutil.copyfile(store, store.with_name("p.db.before-restore"))
    if not kept_file:
        store.unlink()


LEFTOVERS = list(itertools.product((True, False), repeat=4))


@pytest.mark.parametrize(("kept_file", "wal", "shm", "earlier"), LEFTOVERS)
def test_restore_gives_exactly_the_backup_whatever_the_old_store_left_beside_it(
    kept_file: bool, wal: bool, shm: bool, earlier: bool, tmp_path: Path, crashed: tuple[Path, Path]
) -> None:
    """Store present or deleted by hand, its -wal and -shm there or not, an earlier restore's
    kept copy there or not: the restored store is the backup, and no byte of the old is lost."""
    store, backup = crashed
    _leave(store, wal=wal, shm=shm, kept_file=kept_file, earlier=earlier)
    previous, leftover = store.with_name("p.db.before-restore"), store.with_name("p.db-wal.before-restore")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("p.db")}
    code, output = run("restore", str(backup), "--db", str(store))
    if kept_file and earlier:
        assert code == 1 and f"{previous} exists" in output, output
        assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("p.db")} == before
        return
    assert code == 0, output
    assert not Path(f"{store}-wal").exists() and not Path(f"{store}-shm").exists()
    assert titles(store) == titles(backup) and integrity(store) == "ok"
    code, found = run("search", "pruning", "--db", str(store))
    assert code == 0 and "(edited)" not in found and "pruning" in found.lower()
    if kept_file:  # the old store, its crashed run's edit folded in
        assert all(title.endswith("(edited)") for title in titles(previous)) and integrity(previous) == "ok"
    elif earlier:  # an earlier restore's copy, untouched
        assert previous.read_bytes() == before["p.db.before-restore"]
    if not kept_file and wal:  # a deleted store's log: kept, never replayed onto the backup
        assert leftover.read_bytes() == before["p.db-wal"]
        assert f"the deleted store's leftover log is kept as {leftover}" in output
    else:
        assert not leftover.exists() and "leftover" not in output


def test_a_second_deleted_stores_log_does_not_overwrite_the_first_kept_one(
    crashed: tuple[Path, Path],
) -> None:
    store, backup = crashed
    first = Path(f"{store}-wal").read_bytes()
    store.unlink()
    assert run("restore", str(backup), "--db", str(store))[0] == 0
    leftover = store.with_name("p.db-wal.before-restore")
    Path(f"{store}-wal").write_bytes(first[::-1])  # another crashed run's log, its store deleted again
    store.unlink()
    code, output = run("restore", str(backup), "--db", str(store))
    assert code == 1 and f"{leftover} exists" in output and "the backup itself is good" in output
    assert leftover.read_bytes() == first and Path(f"{store}-wal").read_bytes() == first[::-1]


def test_restore_refuses_while_a_process_has_the_store_open(crashed: tuple[Path, Path]) -> None:
    store, backup = crashed
    held = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert held.stdout is not None and held.stdout.readline() == "open\n"
        snapshot = store.read_bytes()
        code, output = run("restore", str(backup), "--db", str(store))
        assert (code, output) == (
            1,
            f"error: {store} is open in another process (a running bot or paperbot command): "
            "stop it, then restore",
        )
        assert store.read_bytes() == snapshot and not store.with_name("p.db.before-restore").exists()
    finally:
        held.communicate("")
    assert run("restore", str(backup), "--db", str(store))[0] == 0


# A bot (or paperbot command) starting while a restore runs: it opens the store the way paperbot
# does, writes one title, and says what it did (a restore in the way makes it log that it waits).
PAPERBOT_OPENER = """
import asyncio, logging, sys
logging.basicConfig(stream=sys.stdout, format="%(message)s", level=logging.WARNING)
from bot.storage.database import Database

async def main():
    database = await Database.open(sys.argv[1])
    await database.writer.execute(
        "UPDATE papers SET title = 'written by a bot started during the restore' "
        "WHERE id = (SELECT min(id) FROM papers)"
    )
    await database.writer.commit()
    await database.close()
    print("wrote", flush=True)

asyncio.run(main())
"""

# Another program (the sqlite3 shell, an older paperbot) opening the store and keeping it open.
PLAIN_OPENER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
connection.execute("UPDATE papers SET title = 'written by a bot started during the restore' "
                   "WHERE id = (SELECT min(id) FROM papers)")
connection.commit()
print("wrote", flush=True)
sys.stdin.read()
"""

STARTED_DURING_RESTORE = "written by a bot started during the restore"


def _opening_during(
    step: str, script: str, store: Path, monkeypatch: pytest.MonkeyPatch
) -> list[subprocess.Popen[str]]:
    """Start a process opening ``store`` when the restore reaches ``step``: "check" (the store
    just found unused), "copied" (the backup copied and checked), "set-aside" (the old store moved
    to .before-restore, the rename next)."""
    started: list[subprocess.Popen[str]] = []

    def open_now() -> None:
        process = subprocess.Popen(
            [sys.executable, "-c", script, str(store)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        assert process.stdout is not None
        started_line = process.stdout.readline()
        if script == PAPERBOT_OPENER:  # it must wait for the restore, not write into the old store
            assert "waiting for `paperbot restore`" in started_line, started_line
        else:
            assert started_line == "wrote\n"

    real_copy, real_set_aside = restore_module._checked_copy, restore_module._set_aside

    def checked_copy(backup: Path, incoming: Path) -> tuple[int, int]:
        if step == "check":
            open_now()
        result = real_copy(backup, incoming)
        if step == "copied":
            open_now()
        return result

    def set_aside(old: Path, previous: Path) -> Path:
        kept = real_set_aside(old, previous)
        if step == "set-aside":
            open_now()
        return kept

    monkeypatch.setattr(restore_module, "_checked_copy", checked_copy)
    monkeypatch.setattr(restore_module, "_set_aside", set_aside)
    return started


@pytest.mark.parametrize("step", ["check", "copied", "set-aside"])
def test_a_bot_started_during_a_restore_waits_and_writes_into_the_restored_store(
    step: str, crashed: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, backup = crashed
    started = _opening_during(step, PAPERBOT_OPENER, store, monkeypatch)
    code, output = run("restore", str(backup), "--db", str(store))
    assert code == 0, output
    (opener,) = started
    rest, _ = opener.communicate("")
    assert opener.returncode == 0 and rest == "wrote\n"
    assert STARTED_DURING_RESTORE in titles(store) and integrity(store) == "ok"
    assert sorted(titles(store)) == sorted(
        [STARTED_DURING_RESTORE] + [t for t in titles(backup) if t != titles(backup)[0]]
    )
    assert STARTED_DURING_RESTORE not in titles(store.with_name("p.db.before-restore"))


@pytest.mark.parametrize("step", ["check", "copied"])
def test_another_program_opening_the_store_during_a_restore_makes_it_refuse(
    step: str, tmp_path: Path, crashed: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A program that takes no claim (the sqlite3 shell) is seen by SQLite's own lock, checked
    again just before the old store is moved: the restore refuses and its write stays."""
    store, backup = crashed
    started = _opening_during(step, PLAIN_OPENER, store, monkeypatch)
    try:
        code, output = run("restore", str(backup), "--db", str(store))
        assert (code, output) == (
            1,
            f"error: {store} was opened by another process during the restore: stop it, then restore "
            "again (nothing was changed)",
        )
        assert STARTED_DURING_RESTORE in titles(store)
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("p.db")) == [
            "p.db",
            "p.db-shm",
            "p.db-wal",
        ]
    finally:
        for process in started:
            process.communicate("")


# A running bot: the store opened the way paperbot opens it, kept open until stdin closes.
PAPERBOT_HOLDER = """
import asyncio, sys
from bot.storage.database import Database

async def main():
    database = await Database.open(sys.argv[1])
    print("open", flush=True)
    await asyncio.to_thread(sys.stdin.read)
    await database.close()

asyncio.run(main())
"""


@pytest.mark.parametrize("which", ["this store", "another store in its folder"])
def test_restore_refuses_while_a_bot_uses_a_store_in_its_folder(
    which: str, tmp_path: Path, crashed: tuple[Path, Path]
) -> None:
    store, backup = crashed
    held = tmp_path / "other.db" if which != "this store" else store
    holder = subprocess.Popen(
        [sys.executable, "-c", PAPERBOT_HOLDER, str(held)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        code, output = run("restore", str(backup), "--db", str(store))
        # Named by its pid (from /proc/locks, as migrate-store names it): it said "a running bot or
        # paperbot command", and the operator had to find which.
        assert (code, " ".join(output.split())) == (
            1,
            f"error: {store} is in use: a paperbot process (pid {holder.pid} on {socket.gethostname()}) "
            f"uses a store in {tmp_path}. Stop it, then restore.",
        )
        assert not store.with_name("p.db.before-restore").exists()
    finally:
        holder.communicate("")
    assert run("restore", str(backup), "--db", str(store))[0] == 0


def test_restore_leaves_nothing_beside_the_backup(tmp_path: Path, crashed: tuple[Path, Path]) -> None:
    """A backup is a WAL-mode file: read plainly, SQLite would leave -shm/-wal beside it."""
    store, backup = crashed
    kept = tmp_path / "backups" / "backup.db"
    kept.parent.mkdir()
    shutil.copyfile(backup, kept)
    code, output = run("restore", str(kept), "--db", str(store))
    assert code == 0, output
    assert [p.name for p in kept.parent.iterdir()] == ["backup.db"]
    assert kept.read_bytes() == backup.read_bytes() and titles(store) == titles(backup)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root to run the restore as another user (setpriv)",
)
def test_restore_from_a_folder_this_user_cannot_write(crashed: tuple[Path, Path]) -> None:
    """A backup on a read-only mount (a backup disk, a snapshot): the restore, run as a user who
    may not write there (file modes do not stop root, so as `nobody`), reads it and leaves the
    folder as it was."""
    _, backup = crashed
    place = Path(tempfile.mkdtemp(dir="/tmp"))  # pytest's own folder is closed to other users
    try:
        place.chmod(0o755)
        backups, stores = place / "backups", place / "stores"
        backups.mkdir()
        stores.mkdir(mode=0o777)
        stores.chmod(0o777)
        shutil.copyfile(backup, backups / "backup.db")
        (backups / "backup.db").chmod(0o444)
        backups.chmod(0o555)
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        command = ["restore", str(backups / "backup.db"), "--db", str(stores / "p.db")]
        restored = subprocess.run(
            [*as_nobody, sys.executable, "-m", "bot", *command],
            cwd=place,
            env={**os.environ, "HOME": str(stores)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert "Restored" in restored.stdout
        assert titles(stores / "p.db") == titles(backup) and integrity(stores / "p.db") == "ok"
        assert [p.name for p in backups.iterdir()] == ["backup.db"]
    finally:
        shutil.rmtree(place)


def _not_sqlite(path: Path, backup: Path) -> None:
    path.write_bytes(b"not a database, just some bytes" * 200)


def _truncated(path: Path, backup: Path) -> None:
    path.write_bytes(backup.read_bytes()[: backup.stat().st_size // 2])


def _foreign(path: Path, backup: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")


def _newer(path: Path, backup: Path) -> None:
    shutil.copyfile(backup, path)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version = 9999")


def _index_corrupt(path: Path, backup: Path) -> None:
    """An index whose rows do not match its table (what the trial's plain copy produced)."""
    shutil.copyfile(backup, path)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA writable_schema = ON")
        connection.execute(
            "UPDATE sqlite_master SET sql = 'CREATE INDEX papers_by_created ON papers (title)' "
            "WHERE name = 'papers_by_created'"
        )


BAD_BACKUPS: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "not-sqlite": (_not_sqlite, "cannot be read as an SQLite database"),
    "truncated": (_truncated, ""),
    "foreign": (_foreign, "is not a paperbot database"),
    "newer-schema": (_newer, "has schema version 9999, newer than this paperbot knows"),
    "index-corrupt": (_index_corrupt, "fails SQLite's integrity check"),
}


@pytest.mark.parametrize("kind", sorted(BAD_BACKUPS))
def test_a_bad_backup_is_refused_before_the_store_is_touched(
    kind: str, tmp_path: Path, crashed: tuple[Path, Path]
) -> None:
    store, backup = crashed
    make, message = BAD_BACKUPS[kind]
    bad = tmp_path / f"{kind}.db"
    make(bad, backup)
    snapshot = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("p.db")}
    code, output = run("restore", str(bad), "--db", str(store))
    assert code == 1 and output.startswith(f"error: {bad} ") and "nothing was changed" in output, output
    assert message in output
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("p.db")} == snapshot


@pytest.mark.parametrize("kind", sorted(BAD_BACKUPS))
def test_a_bad_backup_is_named_even_while_an_earlier_restores_copy_is_in_the_way(
    kind: str, tmp_path: Path, crashed: tuple[Path, Path]
) -> None:
    """The member learns the backup is bad before being asked to move the earlier copy away."""
    store, backup = crashed
    assert run("restore", str(backup), "--db", str(store))[0] == 0  # leaves p.db.before-restore
    make, message = BAD_BACKUPS[kind]
    bad = tmp_path / f"{kind}.db"
    make(bad, backup)
    code, output = run("restore", str(bad), "--db", str(store))
    assert code == 1 and output.startswith(f"error: {bad} ") and message in output, output
    assert "before-restore" not in output


def test_a_postgresql_store_is_told_to_use_pg_restore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERBOT_DATABASE_URL", "postgresql://paperbot@127.0.0.1:9/paperbot")
    code, output = run("restore", str(tmp_path / "backup.db"))
    assert code == 2 and "pg_restore" in output


STEPS = ("link", "replace", "unlink", "fsync")


def _failing_at(step: int) -> Iterator[tuple[str, Callable[..., Any]]]:
    calls = {"count": 0}
    for name in STEPS:
        real = getattr(os, name)

        def failing(*args: Any, _real: Callable[..., Any] = real, **kwargs: Any) -> Any:
            calls["count"] += 1
            if calls["count"] == step:
                raise OSError(5, "Input/output error")
            return _real(*args, **kwargs)

        yield name, failing


@pytest.mark.parametrize("step", range(1, 12))
def test_a_restore_failing_at_any_step_leaves_a_whole_store_and_a_rerun_finishes_it(
    step: int, crashed: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, backup = crashed
    old = [f"{title} (edited)" for title in titles(backup)]
    with monkeypatch.context() as patched:
        for name, failing in _failing_at(step):
            patched.setattr(restore_module.os, name, failing)
        code, output = run("restore", str(backup), "--db", str(store))
    assert code in (0, 1), output
    if code == 1:
        assert output.startswith("error: restore stopped"), output
    assert integrity(store) == "ok"
    assert titles(store) in (old, titles(backup))
    code, output = run("restore", str(backup), "--db", str(store))
    assert code == 0 or "exists (an earlier restore's old store)" in output, output
    assert titles(store) == titles(backup) and integrity(store) == "ok"
    assert titles(store.with_name("p.db.before-restore")) == old


def test_a_file_system_without_flock_still_opens_and_restores(
    crashed: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some network file systems refuse flock: the bot must still start; restore keeps its -shm checks."""
    from bot.storage import folder_claim

    def no_flock(descriptor: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(folder_claim.fcntl, "flock", no_flock)
    store, backup = crashed
    assert run("stats", "--db", str(store))[0] == 0
    code, output = run("restore", str(backup), "--db", str(store))
    assert code == 0, output
    assert titles(store) == titles(backup)
