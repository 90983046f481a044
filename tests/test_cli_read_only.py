"""A store on a read-only mount (or in a folder this user cannot write): the commands that only
read answer from it without writing anything beside it; the ones that write say the folder is
read-only, naming the right path (the backup's target, not the store it reads)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


@pytest.fixture
def read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store, then its folder made unwritable to this user as a read-only mount is (the tests
    run as root, whom file modes do not stop: os.access answers as a read-only mount would)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    store = folder / "trial.db"
    assert run("ingest", "--db", str(store))[0] == 0
    real = os.access

    def access(path: Any, mode: int, **kwargs: Any) -> bool:
        if mode & os.W_OK and Path(path).absolute() in (folder, store):
            return False
        return real(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", access)
    return store


@pytest.mark.parametrize(
    ("command", "shows"),
    [
        (["search", "diffusion"], "Diffusion"),
        (["stats"], "Papers: 69"),
        (["top"], "Top papers of the week"),
        (["random"], "id: "),
        (["show", "Global Magnitude Pruning"], "Global Magnitude Pruning"),
        (["similar", "Global Magnitude Pruning"], ""),
    ],
)
def test_reading_commands_answer_and_write_nothing_beside_the_store(
    read_only: Path, command: list[str], shows: str
) -> None:
    before = sorted(p.name for p in read_only.parent.iterdir())
    code, out, err = run(*command, "--db", str(read_only))
    assert code == 0 and shows in out and "error" not in err, (out, err)
    assert sorted(p.name for p in read_only.parent.iterdir()) == before == ["trial.db"]


def test_ingest_into_a_read_only_folder_names_the_folder(read_only: Path) -> None:
    assert run("ingest", "--db", str(read_only))[1:] == (
        "",
        f"error: the folder {read_only.parent} is read-only: cannot write {read_only} there",
    )


def test_a_backup_that_cannot_be_written_blames_its_target_not_the_store(tmp_path: Path) -> None:
    store = tmp_path / "p.db"
    assert run("ingest", "--db", str(store))[0] == 0
    code, _, err = run("backup", "/proc/paperbot-backup.db", "--db", str(store))
    assert code == 1 and err.startswith("error: cannot write the backup /proc/paperbot-backup.db: "), err
    assert str(store) not in err


@pytest.fixture
def mounted_read_only(tmp_path: Path) -> Iterator[Path]:
    """A real read-only file system holding a store (a tmpfs remounted read-only), where the
    machine lets the tests mount one (root with CAP_SYS_ADMIN, as the trial that found this ran)."""
    folder = tmp_path / "mount"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a file system here: {mounted.stderr.decode().strip()}")
    try:
        assert run("ingest", "--db", str(folder / "trial.db"))[0] == 0
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder / "trial.db"
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_on_a_real_read_only_mount_search_answers_and_ingest_names_the_folder(
    mounted_read_only: Path,
) -> None:
    code, out, err = run("search", "diffusion", "--db", str(mounted_read_only))
    assert code == 0 and "Diffusion" in out and "error" not in err, err
    assert run("stats", "--db", str(mounted_read_only))[0] == 0
    assert run("ingest", "--db", str(mounted_read_only))[2] == (
        f"error: the folder {mounted_read_only.parent} is read-only: cannot write {mounted_read_only} there"
    )
