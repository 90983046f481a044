"""The mark a sandbox database carries: a table written when the sandbox made the file.

Only ``bot.sandbox.store`` uses this, to know which database it may reset (see there).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

MARKER_TABLE = "paperbot_sandbox"
SQLITE_HEADER = b"SQLite format 3\x00"


def carries_marker(path: Path) -> bool:
    """True only for an SQLite file holding the marker table; the file is opened read-only."""
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            return False
    try:
        # Read-only: checking must never change (or create) what it checks.
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        row = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MARKER_TABLE,)
        ).fetchone()
    except sqlite3.Error:
        return False
    finally:
        connection.close()
    return row is not None


def create_marked(path: Path) -> None:
    """A new SQLite file at ``path`` (which must not exist) holding only the marker table."""
    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.execute("CREATE TABLE paperbot_sandbox (created_at TEXT NOT NULL)")
            connection.execute("INSERT INTO paperbot_sandbox VALUES (datetime('now'))")
    finally:
        connection.close()
