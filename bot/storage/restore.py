"""Put a backup back in place of an SQLite store, without the ways a plain copy goes wrong.

Copying a backup over the store leaves the old store's ``-wal`` beside it: SQLite replays that
log onto the copied file at the next open, so the restored store silently carries the crashed
run's writes on pages that no longer match (an index missing rows). A copy made while the bot
runs is overwritten or mixed with its writes. So a restore here:

1. refuses while any process has the store open: a paperbot process holds a claim on the folder
   (bot/storage/folder_claim.py), which the restore then holds itself until the rename, so a bot
   started meanwhile waits and opens the restored file; any other program is seen by SQLite's own
   lock in the ``-shm`` file, checked at the start and again just before the old store is moved;
2. copies the backup next to the store and checks the copy (integrity check, a paperbot schema
   this version can run) before touching the store, then refuses if an earlier restore's kept
   store is in the way (after the check: the member learns first whether the backup is good);
3. folds the old store's ``-wal`` into it if it can, then keeps it as ``<store>.before-restore``
   (with its ``-wal`` if that could not be folded in), and removes the stale ``-shm``; with no
   store file (deleted by hand) a leftover log belongs to no store: SQLite would replay it onto the
   restored file, so it is kept as ``<store>-wal.before-restore`` (a name SQLite never opens);
4. moves the checked copy into place in one atomic rename.

Interrupted at any step, the store is either the old one (whole, its log folded in or moved
aside with it) or the restored one; running the restore again finishes it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bot.errors import PaperbotError
from bot.storage.database import bundled_migrations, readonly_uri
from bot.storage.durable_file import sync_folder
from bot.storage.folder_claim import claim_exclusively

# SQLite's unix VFS keeps a shared lock on this byte of the -shm file for as long as a connection
# has a WAL database open (the "DMS" slot: sqlite3/src/os_unix.c, UNIX_SHM_DMS = 120 + 8). An
# exclusive lock on it succeeds only when no process has the store open.
SHM_DMS_BYTE = 128

# SQLite's logs: what one holds is replayed onto (or rolled back into) the file of the same name.
LOGS = ("-wal", "-journal")


class RestoreRefused(PaperbotError):
    """The restore did not start (nothing was changed): the message says why and what to do."""


class FolderInUse(RestoreRefused):
    """A paperbot process holds its claim on the store's folder; the command line names it
    (bot.cli: the same words as migrate-store's)."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.folder = store.parent
        super().__init__(
            f"{store} is open in another process (a running bot or paperbot command on a store in "
            f"{self.folder}): stop it, then restore"
        )


@dataclass(frozen=True, slots=True)
class Restored:
    schema_version: int
    papers: int
    previous: Path | None  # where the old store is kept (None: there was none)
    # A deleted store's leftover logs, kept under names SQLite never replays.
    leftovers: tuple[Path, ...] = ()


def latest_schema() -> int:
    return bundled_migrations()[-1].number


def sidecar(store: Path, suffix: str) -> Path:
    """SQLite's files beside a store: ``-wal``, ``-shm``, ``-journal``."""
    return store.with_name(store.name + suffix)


def kept_copy(store: Path) -> Path:
    return store.with_name(store.name + ".before-restore")


def leftover_copy(store: Path, log: str) -> Path:
    """Where a log left by a deleted store is kept: not ``<name>-wal`` of any file, so no SQLite
    connection ever replays it onto a database it does not belong to."""
    return sidecar(store, log).with_name(sidecar(store, log).name + ".before-restore")


def _leftover_logs(store: Path) -> list[str]:
    """The logs with content beside a store whose file is gone (an empty log holds nothing)."""
    if store.exists():
        return []
    return [log for log in LOGS if sidecar(store, log).exists() and sidecar(store, log).stat().st_size > 0]


def store_in_use(store: Path) -> bool:
    """Whether a process (a running bot, a CLI command) has the SQLite store open right now."""
    shm = sidecar(store, "-shm")
    try:
        descriptor = os.open(shm, os.O_RDWR)
    except FileNotFoundError:
        return False  # no process has it open in WAL mode: the first one makes this file
    except PermissionError:
        raise RestoreRefused(
            f"cannot check whether a bot uses {store}: {shm} is not writable by you"
        ) from None
    try:
        fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, SHM_DMS_BYTE)
    except OSError:
        return True
    else:
        fcntl.lockf(descriptor, fcntl.LOCK_UN, 1, SHM_DMS_BYTE)
        return False
    finally:
        os.close(descriptor)


def restore_store(backup: Path, store: Path) -> Restored:
    """Replace ``store`` by ``backup`` (see the module's steps); RestoreRefused changes nothing."""
    if not backup.is_file():
        raise RestoreRefused(f"{backup} is not a file: give the path `paperbot backup` wrote")
    if backup.resolve() == store.resolve():
        raise RestoreRefused(f"{backup} is the store itself: give a backup's path")
    folder = store.parent
    if not folder.is_dir():
        raise RestoreRefused(f"the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise RestoreRefused(f"the folder {folder} is read-only: the restored store cannot be written there")
    claim = claim_exclusively(folder)
    if claim is None:
        raise FolderInUse(store)
    try:
        return _restore_claimed(backup, store)
    finally:
        claim.release()  # after the rename: a process waiting to open the store opens the backup


def _restore_claimed(backup: Path, store: Path) -> Restored:
    folder = store.parent
    previous = kept_copy(store)
    if store.exists() and previous.exists() and previous.samefile(store):
        previous.unlink()  # a restore interrupted before its rename: the store is still the old one
    if store_in_use(store):
        raise RestoreRefused(
            f"{store} is open in another process (a running bot or paperbot command): stop it, then restore"
        )
    incoming = store.with_name(store.name + ".restoring")
    for stale in (
        incoming,
        sidecar(incoming, "-wal"),
        sidecar(incoming, "-shm"),
        sidecar(incoming, "-journal"),
    ):
        stale.unlink(missing_ok=True)  # a restore interrupted before its rename
    try:
        version, papers = _checked_copy(backup, incoming)
        # Checked after the backup, so a member moving the earlier copy away is not then told
        # that the backup was bad all along.
        if store.exists() and (previous.exists() or sidecar(previous, "-wal").exists()):
            raise RestoreRefused(
                f"{previous} exists (an earlier restore's old store): move or delete it, then restore "
                f"again (the backup itself is good: schema version {version}, {papers} papers)"
            )
        for log in _leftover_logs(store):
            if leftover_copy(store, log).exists():
                raise RestoreRefused(
                    f"{leftover_copy(store, log)} exists (a deleted store's log an earlier restore "
                    f"kept) and {sidecar(store, log)} is another: move or delete one, then restore "
                    f"again (the backup itself is good: schema version {version}, {papers} papers)"
                )
        # Again, for a process that does not take the folder claim (the sqlite3 shell, an older
        # paperbot) and opened the store while the backup was checked.
        if store_in_use(store):
            raise RestoreRefused(
                f"{store} was opened by another process during the restore: stop it, then restore "
                "again (nothing was changed)"
            )
    except BaseException:
        incoming.unlink(missing_ok=True)
        raise
    kept = _set_aside(store, previous) if store.exists() else None
    leftovers = () if kept else _clear_leftovers(store)
    os.replace(incoming, store)
    sync_folder(folder)
    return Restored(schema_version=version, papers=papers, previous=kept, leftovers=leftovers)


def _checked_copy(backup: Path, incoming: Path) -> tuple[int, int]:
    """The backup copied to ``incoming`` as one self-contained file (no -wal), checked."""
    # A backup is a WAL-mode file: opened plainly ``mode=ro``, SQLite makes -shm/-wal beside it
    # (left behind) and cannot open it at all from a read-only mount.
    source_uri = readonly_uri(backup)
    try:
        with (
            closing(sqlite3.connect(source_uri, uri=True)) as source,
            closing(sqlite3.connect(incoming)) as copy,
        ):
            source.backup(copy)
    except sqlite3.DatabaseError as exc:
        raise RestoreRefused(
            f"{backup} cannot be read as an SQLite database ({exc}): nothing was changed"
        ) from None
    with closing(sqlite3.connect(incoming, isolation_level=None)) as copy:
        found = str(copy.execute("PRAGMA integrity_check").fetchone()[0])
        if found != "ok":
            raise RestoreRefused(f"{backup} fails SQLite's integrity check ({found}): nothing was changed")
        version = int(copy.execute("PRAGMA user_version").fetchone()[0])
        latest = latest_schema()
        has_papers = copy.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'papers'"
        ).fetchone()
        if version == 0 or not has_papers:
            raise RestoreRefused(f"{backup} is not a paperbot database: nothing was changed")
        if version > latest:
            raise RestoreRefused(
                f"{backup} has schema version {version}, newer than this paperbot knows ({latest}): "
                "nothing was changed (restore it with the paperbot that made it)"
            )
        papers = int(copy.execute("SELECT count(*) FROM papers").fetchone()[0])
        # One self-contained file: the log folded in, so nothing but the file itself is moved.
        copy.execute("PRAGMA journal_mode = DELETE")
    with open(incoming, "rb") as handle:
        os.fsync(handle.fileno())
    return version, papers


def _set_aside(store: Path, previous: Path) -> Path:
    """Keep the old store at ``previous``: its log folded in when SQLite can open it, else moved
    with it (a damaged store keeps every byte it had). The stale -shm goes."""
    try:
        with closing(sqlite3.connect(store, isolation_level=None)) as old:
            old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.DatabaseError:
        pass  # damaged: its -wal is moved beside the kept copy below, not lost
    try:
        os.link(store, previous)  # the old store stays whole at its own path until the rename below
    except OSError:
        shutil.copy2(store, previous)  # a file system without hard links
    for log in LOGS:  # what SQLite could not fold in (a damaged store) stays with it
        if sidecar(store, log).exists() and sidecar(store, log).stat().st_size > 0:
            os.replace(sidecar(store, log), sidecar(previous, log))
        sidecar(store, log).unlink(missing_ok=True)
    sidecar(store, "-shm").unlink(missing_ok=True)
    return previous


def _clear_leftovers(store: Path) -> tuple[Path, ...]:
    """No store file, but its logs may remain (the store deleted by hand after a crash): keep
    what they hold under names SQLite never replays, so the restored file starts clean."""
    kept = []
    for log in _leftover_logs(store):
        os.replace(sidecar(store, log), leftover_copy(store, log))
        kept.append(leftover_copy(store, log))
    for stale in (*LOGS, "-shm"):  # empty logs and the old shared-memory index hold nothing
        sidecar(store, stale).unlink(missing_ok=True)
    return tuple(kept)
