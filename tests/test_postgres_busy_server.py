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
