"""`make run` without a token: the bundled papers, then the sandbox's scripted tour, exit 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_start_without_a_token_runs_the_sandbox_tour(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOT_", "DISCORD_"))}
    (tmp_path / "data").mkdir()
    keep = ("paperbot.db.bak", "paperbot.db-notes.txt", "sandbox.db.bak", "sandbox.db-notes.txt")
    for name in keep:  # files beside the store and the sandbox database are not theirs to delete
        (tmp_path / "data" / name).write_text(name)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "start"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "Bundled sample: 69 new" in out
    assert "paperbot sandbox" in out and "No terminal attached: running the scripted tour." in out
    assert "Page 2/" in out  # the tour turned a page with the Next button
    assert "direct message to you" in out and "Faster Video Diffusion" in out  # a follow alert arrived
    assert "Posted today's digest" in out and "paperbot posted in #papers" in out
    assert "Tour done." in out
    assert "Traceback" not in done.stderr
    assert all((tmp_path / "data" / name).read_text() == name for name in keep)
