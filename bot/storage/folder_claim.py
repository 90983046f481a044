"""A lock on the folder of an SQLite store that says "a paperbot process uses a store here".

SQLite's own locks live on the store's files, and `paperbot restore` replaces those files by a
rename: a process that opened the store just before the rename keeps its handle on the old file
and writes into the copy set aside. A lock on the folder survives the rename. Every process that
opens a store for writing holds it shared for as long as the store is open; a restore holds it
exclusively from its "nobody uses the store" check until the rename. So a process starting during
a restore waits, then opens the restored file, and a restore refuses while a process uses it.
``migrate-store`` holds it exclusively the same way while it copies, so what it copies is the store
as it stays (a bot started meanwhile waits until the copy is done).

It is a ``flock`` on the folder itself: no file is made beside the store, and the kernel drops
it when the process dies. The folder covers every store in it: a restore also refuses while a
bot uses another store in the same folder (the message says so).
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


class FolderClaim:
    """A held claim on a folder; ``release`` ends it (closing the descriptor drops the lock)."""

    def __init__(self, descriptor: int | None) -> None:
        self._descriptor = descriptor

    def release(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None


def _open_folder(folder: Path) -> int | None:
    try:
        return os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None  # a folder this user cannot list: nothing can be restored there either


async def claim_for_use(store: Path) -> FolderClaim:
    """Shared claim for a process opening ``store``: waits while a restore runs in its folder."""
    descriptor = _open_folder(store.parent)
    if descriptor is None:
        return FolderClaim(None)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        log.warning(
            "%s: waiting for `paperbot restore` or `migrate-store` in %s to finish", store, store.parent
        )
        try:
            await asyncio.to_thread(fcntl.flock, descriptor, fcntl.LOCK_SH)
        except BaseException:
            os.close(descriptor)
            raise
    except OSError:  # a file system without flock: the restore's -shm checks still stand
        os.close(descriptor)
        return FolderClaim(None)
    return FolderClaim(descriptor)


def claim_exclusively(folder: Path) -> FolderClaim | None:
    """Exclusive claim (a restore's, or migrate-store's while it reads the store), without
    waiting; None while any process holds a claim."""
    descriptor = _open_folder(folder)
    if descriptor is None:
        return FolderClaim(None)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    except OSError:  # a file system without flock: the -shm checks are all there is
        os.close(descriptor)
        return FolderClaim(None)
    return FolderClaim(descriptor)


@dataclass(frozen=True, slots=True)
class Holder:
    """A process holding a claim on a folder: ``exclusive`` (a restore or migrate-store) or shared
    (a process using a store there); ``argv``: its command line, when this user may read it."""

    pid: int
    exclusive: bool
    argv: tuple[str, ...]


def holders(folder: Path, *, locks: Path = Path("/proc/locks")) -> list[Holder]:
    """Who holds a claim on ``folder``, as the kernel lists flocks (Linux's /proc/locks, where a
    process of this machine and pid namespace is named by its pid): empty where that list cannot be
    read or names nobody, so a refusal can say who is in the way when it can be known."""
    try:
        stat = folder.stat()
        listed = locks.read_text("ascii", errors="replace").splitlines()
    except OSError:
        return []
    device = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    found: dict[int, Holder] = {}
    for line in listed:
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 2839 fe:00:2738706 0 EOF"; a waiter's has "->" after the id.
        if len(fields) < 6 or fields[1] != "FLOCK" or fields[5] != device:
            continue
        pid = int(fields[4]) if fields[4].isdigit() else 0
        if pid > 0 and pid != os.getpid():
            found[pid] = Holder(pid, fields[3] == "WRITE", _argv(pid))
    return sorted(found.values(), key=lambda holder: holder.pid)


def _argv(pid: int) -> tuple[str, ...]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ()
    return tuple(part.decode(errors="replace") for part in raw.split(b"\0") if part)
