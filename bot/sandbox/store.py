"""The sandbox's own database: made afresh on every run, and only ever one the sandbox made.

A sandbox database carries a marker table written before anything else. Resetting deletes the file
and its own SQLite companions (``-wal``, ``-shm``, ``-journal``) only when the file carries that
marker; any other file at the path (a real paperbot store, a backup, notes) is refused and left as
it was. A running sandbox holds an exclusive lock on its own ``PATH.lock`` file for the whole session,
so a second sandbox on the same path refuses instead of deleting the running one's database.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.storage.sandbox_marker import carries_marker, create_marked

COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")


class NotASandboxStore(RuntimeError):
    """The path holds something the sandbox did not make: it is never deleted."""


def companions(path: Path) -> list[Path]:
    """SQLite's own files beside ``path``: exactly these names, never a prefix match."""
    return [path.with_name(path.name + suffix) for suffix in COMPANION_SUFFIXES]


def is_sandbox_store(path: Path) -> bool:
    """True only for an SQLite file whose marker table the sandbox wrote."""
    return path.is_file() and carries_marker(path)


def reset_sandbox_store(path: Path) -> None:
    """Make ``path`` a fresh, marked, empty sandbox database.

    Raises NotASandboxStore (deleting nothing) when ``path`` is a directory or a file the sandbox
    did not make.
    """
    if path.is_dir():
        raise NotASandboxStore(f"{path} is a directory; give the sandbox a database file path")
    if path.exists():
        if not is_sandbox_store(path):
            raise NotASandboxStore(
                f"{path} exists and is not a sandbox database (the sandbox only resets databases it "
                "made); choose another --db path"
            )
        for file in (*companions(path), path):
            file.unlink(missing_ok=True)
    else:
        leftovers = [c for c in companions(path) if c.exists()]
        if leftovers:
            # SQLite would read these into a new database at this path; they are not ours to delete.
            raise NotASandboxStore(
                f"{leftovers[0]} exists without its database {path.name}; move it away or choose "
                "another --db path"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    create_marked(path)


LOCK_SUFFIX = ".lock"
LOCK_CONTENT = b"paperbot sandbox lock: deleted by the sandbox holding it\n"


class SandboxBusy(RuntimeError):
    """Another sandbox holds this database: nothing was touched."""


def lock_path(path: Path) -> Path:
    """The lock file the sandbox owns beside its database (``sandbox.db`` -> ``sandbox.db.lock``)."""
    return path.with_name(path.name + LOCK_SUFFIX)


@contextmanager
def sandbox_session(path: Path) -> Iterator[None]:
    """Hold the sandbox's exclusive lock on ``path`` for the whole session.

    A second sandbox on the same path raises SandboxBusy before it deletes anything. The lock file
    is made here and deleted here, while still locked, so a later sandbox never locks a deleted file.
    """
    lock = lock_path(path)
    if lock.is_dir() or (lock.exists() and lock.read_bytes() not in (b"", LOCK_CONTENT)):
        raise NotASandboxStore(f"{lock} exists and is not the sandbox's lock file; move it away")
    lock.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SandboxBusy(f"a sandbox is already running on {path}") from None
        # The holder before us may have deleted the file between our open and our lock: retry on the
        # file now at the path, or two sandboxes would each hold a lock on a different file.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, LOCK_CONTENT)
        yield
    finally:
        lock.unlink(missing_ok=True)
        os.close(fd)
