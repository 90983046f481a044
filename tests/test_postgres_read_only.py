"""A PostgreSQL URL that only takes reads (a hot standby, or a database whose
default_transaction_read_only is on) is one line naming it and what to do, exit 2, from `paperbot
run` and every command that writes; `paperbot doctor` fails the database check. It used to end in a
traceback from the first shard claim, exit 1: under systemd (Restart=always unless exit 2) a
restart loop for ever."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from bot.storage.postgres import redacted
from tests.backends import postgres_server
from tests.postgres_server import PostgresServer, database_url
from tests.test_postgres_url_mistakes import paperbot

__all__ = ["postgres_server"]
FIXTURE = Path(__file__).parent / "fixtures" / "hf_daily_2024-07-31.json"


async def _read_only(url: str, on: bool) -> None:
    name = urlsplit(url).path.lstrip("/")
    admin = await asyncpg.connect(database_url(url, "postgres"))
    try:
        await admin.execute(
            f'ALTER DATABASE "{name}" SET default_transaction_read_only = {"on" if on else "off"}'
        )
    finally:
        await admin.close()


@pytest.fixture
def standby_url(postgres_server: PostgresServer) -> Iterator[str]:
    url = asyncio.run(postgres_server.fresh_database())
    asyncio.run(_read_only(url, True))
    yield url
    asyncio.run(_read_only(url, False))
    asyncio.run(postgres_server.release(url))


@pytest.mark.parametrize(
    "args",
    [("run", "--shard-count", "6", "--shards", "0-1"), ("ingest", str(FIXTURE))],
    ids=["run", "ingest"],
)
def test_a_read_only_database_is_one_line_saying_so_and_exit_2(
    tmp_path: Path, standby_url: str, args: tuple[str, ...]
) -> None:
    code, output = paperbot(tmp_path, *args, url=standby_url)
    assert code == 2, output
    assert "Traceback" not in output
    # `run` logs its stop before it; the error is the last line
    assert output.strip().splitlines()[-1] == (
        f"error: the database {redacted(standby_url)} only takes reads (a standby, or "
        "default_transaction_read_only is on), and paperbot writes to its store: point the URL at the "
        "primary server. Nothing was saved: fix the URL (database.url, PAPERBOT_DATABASE_URL or --to)."
    )


def test_doctor_fails_the_database_check_of_a_read_only_database(tmp_path: Path, standby_url: str) -> None:
    code, output = paperbot(tmp_path, "doctor", url=standby_url)
    assert code == 1
    line = next(line for line in output.splitlines() if "database:" in line)
    assert line.startswith("✘ database:") and "only takes reads" in line, output


@pytest.fixture
def filled_standby_url(tmp_path: Path, postgres_server: PostgresServer) -> Iterator[str]:
    """A standby of a primary that holds a day's list: its schema is this paperbot's."""
    url = asyncio.run(postgres_server.fresh_database())
    assert paperbot(tmp_path, "ingest", str(FIXTURE), url=url)[0] == 0
    asyncio.run(_read_only(url, True))
    yield url
    asyncio.run(_read_only(url, False))
    asyncio.run(postgres_server.release(url))


@pytest.mark.parametrize(
    ("command", "shows"),
    [
        (("search", "diffusion"), "Federated Diffusion"),
        (("stats",), "Papers: "),
        (("top", "--day", "latest"), "Top papers"),
        (("random",), "id: "),
        (("show", "Federated Diffusion"), "Federated Diffusion"),
        (("similar", "Federated Diffusion"), ""),
        (("follows", "match", str(FIXTURE)), "No stored follow matches"),
    ],
    ids=lambda value: value[0] if isinstance(value, tuple) else None,
)
def test_the_commands_that_only_read_answer_from_a_read_only_database(
    tmp_path: Path, filled_standby_url: str, command: tuple[str, ...], shows: str
) -> None:
    """They were refused with the writing commands' error ("... Nothing was saved: fix the URL"):
    a standby serves reads, and these commands write nothing."""
    code, output = paperbot(tmp_path, *command, url=filled_standby_url)
    assert code == 0 and shows in output and "error" not in output, output


def test_a_read_only_database_without_this_schema_says_so_to_a_reading_command(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """Its tables cannot be brought up to date there: said, without claiming a write was tried."""
    url = asyncio.run(postgres_server.empty_database())
    asyncio.run(_read_only(url, True))
    try:
        code, output = paperbot(tmp_path, "search", "diffusion", url=url)
    finally:
        asyncio.run(_read_only(url, False))
        asyncio.run(postgres_server.drop(url))
    assert code == 2, output
    assert output.strip() == (
        f"error: the database {redacted(url)} only takes reads (a standby, or "
        "default_transaction_read_only is on) and has no paperbot schema yet: start this paperbot's "
        "bot (`paperbot run`) on the primary server once, which brings the schema up to date"
    )
