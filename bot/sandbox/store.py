"""The sandbox's own database: made afresh on every run, and only ever one the sandbox made.

A sandbox database carries a marker table written before anything else. Resetting deletes the file
and its own SQLite companions (``-wal``, ``-shm``, ``-journal``) only when the file carries that
marker; any other file at the path (a real paperbot store, a backup, notes) is refused and left as
it was.
"""

from __future__ import annotations

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
