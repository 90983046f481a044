"""Files that appear whole or not at all: written under a temporary name, then renamed (never
over a file that took the name meanwhile)."""

from __future__ import annotations

import errno
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
    """Flush ``partial`` to disk and give it the name ``target``, which must still be free: a
    crash at any point leaves the whole copy under ``target`` or nothing there, and a file that
    appeared under ``target`` meanwhile is never replaced (FileExistsError, ``partial`` kept for
    the caller to discard)."""
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    claim_name(partial, target)
    sync_folder(target.parent)


def claim_name(partial: Path, target: Path) -> None:
    """Rename ``partial`` to ``target`` unless ``target`` exists (FileExistsError). A hard link
    claims the name in one step (the kernel refuses an existing one), where checking first and
    then renaming would replace a file created in between."""
    try:
        os.link(partial, target)
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        # A file system without hard links (FAT, some network shares): the best left is to check
        # just before the rename; the gap between the two is no longer than a system call.
        if target.exists():
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target)) from exc
        os.rename(partial, target)
        return
    partial.unlink()


# What os.link raises where the file system has no hard links.
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS})


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
