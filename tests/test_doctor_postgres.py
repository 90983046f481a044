"""`paperbot doctor` on a PostgreSQL store names that store (never the unused SQLite default) and
never shows the password in its URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.backends import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]


def with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    user, _, host = parts.netloc.rpartition("@")
    netloc = f"{user or 'postgres'}:{password}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def test_doctor_names_the_postgres_store_without_its_password(postgres_url: str, tmp_path: Path) -> None:
    password = "doctor-db-password-42"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOT_", "DISCORD_"))}
    env |= {
        "PAPERBOT_SOURCES__HF_API_URL": "http://127.0.0.1:9/daily_papers",
        "PAPERBOT_DATABASE_URL": with_password(postgres_url, password),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "doctor"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    database_line = next(line for line in done.stdout.splitlines() if "database:" in line)
    assert "✔ database: postgresql://" in database_line and ":***@" in database_line
    assert "settings.db" not in done.stdout and "paperbot.db" not in database_line
    assert password not in done.stdout + done.stderr
