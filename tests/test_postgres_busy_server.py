"""A PostgreSQL server that answers but will not take the connection is told as what it is, not as
"cannot be reached ... check the host and port" (which sent an operator of a full server looking at
the wrong thing)."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from bot.errors import StorageUnavailable
from bot.storage.postgres import PostgresDatabase

URL = "postgresql://bot:hunter2@db.internal:5432/paperbot"


@pytest.mark.parametrize(
    ("refusal", "says"),
    [
        (
            asyncpg.TooManyConnectionsError("sorry, too many clients already"),
            "refuses more connections (sorry, too many clients already): each paperbot process holds "
            "up to 4. Raise the server's max_connections",
        ),
        (
            asyncpg.CannotConnectNowError("the database system is starting up"),
            "does not take connections yet (the database system is starting up). Try again shortly.",
        ),
    ],
)
async def test_a_server_that_answers_but_refuses_the_connection_says_why(
    monkeypatch: pytest.MonkeyPatch, refusal: Exception, says: str
) -> None:
    async def refused(*args: Any, **kwargs: Any) -> None:
        raise refusal

    monkeypatch.setattr(asyncpg, "create_pool", refused)
    with pytest.raises(StorageUnavailable) as raised:
        await PostgresDatabase.open(URL)
    message = str(raised.value)
    assert says in message, message
    assert "host and port" not in message and "cannot be reached" not in message
    assert "hunter2" not in message  # the password is never echoed


class _FullPool:
    """A pool whose server has no connection slot left for a new connection."""

    def get_max_size(self) -> int:
        return 4

    def acquire(self) -> Any:
        class Refused:
            async def __aenter__(self) -> None:
                raise asyncpg.TooManyConnectionsError("sorry, too many clients already")

            async def __aexit__(self, *exc: object) -> None:
                return None

        return Refused()


async def test_a_full_server_is_said_the_same_way_at_open_and_at_a_later_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It was written twice, differently: at open with the URL and what to do, at a later use
    (a search, a job) without the URL and as "Nothing was saved", which a search never tries."""

    async def refused(*args: Any, **kwargs: Any) -> None:
        raise asyncpg.TooManyConnectionsError("sorry, too many clients already")

    monkeypatch.setattr(asyncpg, "create_pool", refused)
    with pytest.raises(StorageUnavailable) as at_open:
        await PostgresDatabase.open(URL)
    database = PostgresDatabase(_FullPool(), URL)  # type: ignore[arg-type]
    with pytest.raises(StorageUnavailable) as at_use:
        await database.schema_version()
    assert (
        str(at_use.value)
        == str(at_open.value)
        == (
            "The database server at postgresql://bot:***@db.internal:5432/paperbot refuses more "
            "connections (sorry, too many clients already): each paperbot process holds up to 4. Raise "
            "the server's max_connections, stop what else holds its connections, or try again shortly."
        )
    )
