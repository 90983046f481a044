"""`bench similar` prints the page-cache state of the store it measures: the residency it reports is
the kernel's, database and write-ahead log together."""

from __future__ import annotations

import mmap
from pathlib import Path

from bench import page_cache


def test_a_store_read_through_is_reported_all_in_the_page_cache(tmp_path: Path) -> None:
    store = tmp_path / "papers.db"
    store.write_bytes(b"p" * (64 * mmap.PAGESIZE + 10))
    Path(f"{store}-wal").write_bytes(b"w" * (3 * mmap.PAGESIZE))

    page_cache.load(store)
    state = page_cache.residency(store)

    assert state.size == 67 * mmap.PAGESIZE + 10
    assert state.resident == state.size
    assert "(100%)" in state.describe()


def test_an_empty_store_file_is_reported_without_dividing_by_zero(tmp_path: Path) -> None:
    store = tmp_path / "papers.db"
    store.touch()
    page_cache.drop(store)
    assert page_cache.residency(store).describe() == "0 of 0 MiB in the OS page cache (0%)"


def test_a_data_directory_is_reported_with_every_file_under_it(tmp_path: Path) -> None:
    # `bench search --backend postgres` reports the server's data directory: relations are files
    # in folders under it.
    (tmp_path / "base" / "5").mkdir(parents=True)
    (tmp_path / "base" / "5" / "16384").write_bytes(b"r" * (5 * mmap.PAGESIZE))
    (tmp_path / "PG_VERSION").write_bytes(b"18\n")
    for file in page_cache.folder_files(tmp_path):
        file.read_bytes()

    state = page_cache.folder_residency(tmp_path)

    assert state.size == 5 * mmap.PAGESIZE + 3
    assert state.resident == state.size
