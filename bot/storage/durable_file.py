"""Files that appear whole or not at all: written under a temporary name, then renamed."""

from __future__ import annotations

import os
from pathlib import Path

# A dot file with this marker is never a finished copy: a name a user would not choose, and
# one `paperbot restore` or a glob for "*.db" does not pick up.
PARTIAL_MARKER = ".partial-"


def partial_path(target: Path) -> Path:
    """Where ``target`` is written before the rename: the same folder (a rename never crosses
    file systems), named after this process so a leftover tells whose it was."""
    return target.with_name(f".{target.name}{PARTIAL_MARKER}{os.getpid()}")


def clear_stale_partials(target: Path) -> list[Path]:
    """Remove what killed writers of ``target`` left (their process is gone); a partial whose
    writer still runs is left to it."""
    removed = []
    for leftover in target.parent.glob(f".{target.name}{PARTIAL_MARKER}*"):
        owner = leftover.name.removeprefix(f".{target.name}{PARTIAL_MARKER}").split("-", 1)[0]
        if owner.isdigit() and process_alive(int(owner)):
            continue
        leftover.unlink(missing_ok=True)
        removed.append(leftover)
    return removed


def finish(partial: Path, target: Path) -> None:
    """Flush ``partial`` to disk and rename it over ``target``: a crash at any point leaves either
    the old ``target`` or the whole new one, never half of it."""
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, target)
    sync_folder(target.parent)


def sync_folder(folder: Path) -> None:
    """The rename survives a power cut once the folder's entry is on disk."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: running
    return True
