"""A mistake in the PostgreSQL URL is a configuration error that names the bad part, from
`paperbot run`, `migrate-store` and `doctor` alike; "cannot be reached" is kept for a server that
cannot be reached."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.storage.postgres import redacted
from tests.backends import postgres_server
from tests.postgres_server import PostgresServer

__all__ = ["postgres_server"]
UNREACHABLE = "cannot be reached"


def paperbot(tmp_path: Path, *args: str, url: str | None = None) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOT_", "DISCORD_"))}
    env |= {
        "PAPERBOT_SOURCES__HF_API_URL": "http://127.0.0.1:9/daily_papers",
        "PAPERBOT_DISCORD_API_BASE": "http://127.0.0.1:9/api/v10",  # never reached: the store fails first
        "DISCORD_TOKEN": "not-a-token",
    }
    if url is not None:
        env["PAPERBOT_DATABASE_URL"] = url
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Path:
    path = tmp_path / "community.db"
    assert paperbot(tmp_path, "ingest", "--db", str(path))[0] == 0
    return path


@pytest.fixture
def server_url(postgres_server: PostgresServer) -> Iterator[str]:
    url = asyncio.run(postgres_server.fresh_database())
    yield url
    asyncio.run(postgres_server.release(url))


def with_option(url: str, option: str) -> str:
    return url + ("&" if "?" in url else "?") + option


@pytest.mark.parametrize(
    ("option", "named"),
    [
        ("sslmode=bogus", "has a bad sslmode (bogus): use one of disable, allow, prefer"),
        ("target_session_attrs=nope", "has a bad target_session_attrs (nope): use one of any"),
    ],
)
def test_a_bad_url_option_value_is_a_config_error_before_connecting(
    tmp_path: Path, sqlite_store: Path, option: str, named: str
) -> None:
    url = with_option("postgresql://bot:hunter2@127.0.0.1:1/paperbot", option)
    for args, env_url, says in (
        (("run",), url, f"database_url (set in PAPERBOT_DATABASE_URL): {named}"),
        (("doctor",), url, f"database_url (set in PAPERBOT_DATABASE_URL): {named}"),
        (("migrate-store", "--from", str(sqlite_store), "--to", url), None, f"--to {named}"),
    ):
        code, output = paperbot(tmp_path, *args, url=env_url)
        assert code == 2, (args, output)
        assert says in output and UNREACHABLE not in output and "Traceback" not in output
        assert "hunter2" not in output  # the password is never echoed


def test_an_option_the_server_does_not_know_is_named_not_unreachable(
    tmp_path: Path, sqlite_store: Path, server_url: str
) -> None:
    url = with_option(server_url, "no_such_option=1")
    refused = 'is refused: unrecognized configuration parameter "no_such_option"'
    code, output = paperbot(tmp_path, "run", url=url)
    assert code == 2 and refused in output and UNREACHABLE not in output, output
    code, output = paperbot(tmp_path, "migrate-store", "--from", str(sqlite_store), "--to", url)
    assert code == 2 and refused in output and UNREACHABLE not in output, output
    code, output = paperbot(tmp_path, "doctor", url=url)
    [line] = [line for line in output.splitlines() if "database:" in line]
    assert "✘" in line and refused in line and UNREACHABLE not in output, output
    # A server that is not there is still "cannot be reached".
    code, output = paperbot(tmp_path, "run", url="postgresql://bot@127.0.0.1:1/paperbot")
    assert code == 1 and UNREACHABLE in output
    # ... and the doctor, which saves nothing, does not say "nothing was saved".
    code, output = paperbot(tmp_path, "doctor", url="postgresql://bot@127.0.0.1:1/paperbot")
    [line] = [line for line in output.splitlines() if "database:" in line]
    assert "✘" in line and UNREACHABLE in line and "saved" not in line, output
    assert "Check that it runs and the URL's host and port" in line


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bot@127.0.0.1:1/paperbot?password=hunter2",  # libpq's and asyncpg's query form
        "postgresql:///paperbot?user=bot&password=hunter2&host=127.0.0.1&port=1",
        "postgresql://bot:hunter2@127.0.0.1:1/paperbot?sslmode=disable&sslpassword=hunter2",
    ],
)
def test_a_password_anywhere_in_the_url_is_never_echoed(tmp_path: Path, sqlite_store: Path, url: str) -> None:
    """The trial's leak: a password given as a query option was printed whole with "cannot be
    reached", twice in the doctor's line."""
    for args, env_url in (
        (("stats",), url),
        (("doctor",), url),
        (("migrate-store", "--from", str(sqlite_store), "--to", url), None),
    ):
        code, output = paperbot(tmp_path, *args, url=env_url)
        assert code == 1 and UNREACHABLE in output, (args, output)
        assert "hunter2" not in output and "***" in output, (args, output)


@given(
    password=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1),
    form=st.sampled_from(["userinfo", "query", "sslpassword"]),
    host=st.sampled_from(["db.example:5432", "[::1]:5433", "", "10.0.0.7"]),
)
def test_redacted_never_shows_a_password_and_keeps_the_rest(password: str, form: str, host: str) -> None:
    """Exactly the password goes, whatever it holds (percent-encoded, as in any URL)."""
    forms = {
        "userinfo": "postgresql://bot:{}@{}/paperbot?sslmode=require",
        "query": "postgresql://bot@{1}/paperbot?sslmode=require&password={0}",
        "sslpassword": "postgresql://bot@{1}/paperbot?sslpassword={0}&sslmode=require",
    }
    url = forms[form].format(quote(password, safe=""), host)
    assert redacted(url) == forms[form].format("***", host)
