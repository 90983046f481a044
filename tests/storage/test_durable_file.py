"""A finished file takes its name only while the name is free, also where hard links are missing."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from bot.storage.durable_file import finish


@pytest.mark.parametrize("hard_links", [True, False])
def test_finish_names_the_file_only_while_the_name_is_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hard_links: bool
) -> None:
    if not hard_links:  # FAT or a network share: os.link is refused with EPERM

        def refused(source: object, destination: object) -> None:
            raise PermissionError(errno.EPERM, os.strerror(errno.EPERM))

        monkeypatch.setattr(os, "link", refused)
    partial, target = tmp_path / ".copy.partial", tmp_path / "copy"
    partial.write_text("new")
    finish(partial, target)
    assert target.read_text() == "new" and not partial.exists()

    partial.write_text("newer")
    with pytest.raises(FileExistsError):
        finish(partial, target)
    assert target.read_text() == "new"
