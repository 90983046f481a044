"""A store's files and the OS page cache: how much of them is resident, drop them, load them.

A first call's latency on a store depends on whether its pages come from memory or from the disk,
which no benchmark controls by itself: the same bench after reading 2.4 GB of other stores found
its store cold and measured the disk (docs/performance.md, "Fifth session: similar"). So a bench
that reports first calls puts the store in the state it names first, and prints that state.
Linux only (``mincore`` through libc, ``posix_fadvise``); the benches run on Linux.
"""

from __future__ import annotations

import ctypes
import mmap
import os
from dataclasses import dataclass
from pathlib import Path

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_long,
]
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_ubyte)]
_MAP_FAILED = ctypes.c_void_p(-1).value
_CHUNK = 1 << 20


def store_files(path: Path) -> list[Path]:
    """The database file and its write-ahead log (the shared-memory index is mapped, not read)."""
    return [p for p in (path, Path(f"{path}-wal")) if p.exists()]


@dataclass(frozen=True, slots=True)
class Residency:
    resident: int  # bytes of the files in the OS page cache
    size: int

    def describe(self) -> str:
        share = self.resident / self.size if self.size else 0.0
        return (
            f"{self.resident / 2**20:,.0f} of {self.size / 2**20:,.0f} MiB in the OS page cache ({share:.0%})"
        )


def _resident_bytes(path: Path) -> int:
    size = path.stat().st_size
    if size == 0:
        return 0
    page = mmap.PAGESIZE
    with path.open("rb") as file:
        # Mapping a file reads none of it; mincore then says which of its pages are in memory.
        address = _libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, file.fileno(), 0)
        if address in (None, _MAP_FAILED):
            raise OSError(ctypes.get_errno(), f"mmap {path}")
        try:
            pages = (size + page - 1) // page
            vector = (ctypes.c_ubyte * pages)()
            if _libc.mincore(address, size, vector) != 0:
                raise OSError(ctypes.get_errno(), f"mincore {path}")
            # The last page may be partly the file's: count the file's bytes, not the page's.
            return min(size, sum(byte & 1 for byte in vector) * page)
        finally:
            _libc.munmap(address, size)


def residency(path: Path) -> Residency:
    files = store_files(path)
    return Residency(sum(_resident_bytes(p) for p in files), sum(p.stat().st_size for p in files))


def folder_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` (a PostgreSQL data directory: its relations are files there)."""
    return [path for path in sorted(folder.rglob("*")) if path.is_file() and not path.is_symlink()]


def folder_residency(folder: Path) -> Residency:
    files = folder_files(folder)
    return Residency(sum(_resident_bytes(p) for p in files), sum(p.stat().st_size for p in files))


def drop_files(files: list[Path]) -> None:
    """Evict ``files`` from the OS page cache (flushed first: the kernel keeps dirty pages)."""
    for file in files:
        descriptor = os.open(file, os.O_RDONLY)
        try:
            os.fsync(descriptor)
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(descriptor)


def drop(path: Path) -> None:
    """Evict the store's files from the OS page cache, as other files read since, or a reboot, do."""
    drop_files(store_files(path))


def load(path: Path) -> None:
    """Read the store's files through once, so all of them are in the OS page cache."""
    for file in store_files(path):
        with file.open("rb", buffering=0) as reader:
            while reader.read(_CHUNK):
                pass
