"""What repositories execute on, whichever backend holds the store.

Repositories write one SQL text with ``?`` placeholders for both backends (the PostgreSQL
connection numbers them) and ask ``connection.dialect`` for the few fragments where SQLite and
PostgreSQL differ (a JSON list as a set of values, JSON object updates, dates, random rows).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from bot.storage.write_health import WriteHealth


class Row(Protocol):
    """A result row read by position or by column name (sqlite3.Row and asyncpg.Record both are)."""

    def __getitem__(self, key: Any, /) -> Any: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    async def fetchone(self) -> Any: ...

    async def fetchall(self) -> Iterable[Any]: ...


class Result(Protocol):
    """``await`` it for a cursor, or ``async with`` it to read rows."""

    def __await__(self) -> Generator[Any, None, Cursor]: ...

    async def __aenter__(self) -> Cursor: ...

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> Any: ...


class Backend(Enum):
    SQLITE = "sqlite"
    POSTGRES = "postgres"


class Dialect:
    """SQL fragments whose spelling differs between the backends (values stay bound parameters)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @property
    def postgres(self) -> bool:
        return self.backend is Backend.POSTGRES

    @property
    def skip_locked(self) -> str:
        """Appended to a SELECT of rows to claim: rows another transaction holds are passed over."""
        return " FOR UPDATE SKIP LOCKED" if self.postgres else ""

    def ints(self, placeholder: str = "?") -> str:
        """A subquery of the integers in a JSON list parameter (``IN (...)`` it)."""
        if self.postgres:
            return f"SELECT jsonb_array_elements_text({placeholder}::jsonb)::bigint"
        return f"SELECT value FROM json_each({placeholder})"

    def texts(self, placeholder: str = "?") -> str:
        """A subquery of the strings in a JSON list parameter."""
        if self.postgres:
            return f"SELECT jsonb_array_elements_text({placeholder}::jsonb)"
        return f"SELECT value FROM json_each({placeholder})"

    def json_rows(self, *types: str, placeholder: str = "?") -> str:
        """A subquery of the rows of a parameter holding a JSON list of lists: columns c0, c1, ..
        of the given types ("int" or "text")."""
        if self.postgres:
            columns = ", ".join(
                f"(r ->> {i})::bigint AS c{i}" if kind == "int" else f"r ->> {i} AS c{i}"
                for i, kind in enumerate(types)
            )
            return f"(SELECT {columns} FROM jsonb_array_elements({placeholder}::jsonb) AS r)"
        columns = ", ".join(f"value ->> {i} AS c{i}" for i in range(len(types)))
        return f"(SELECT {columns} FROM json_each({placeholder}))"

    def json_has_text(self, column: str, placeholder: str = "?") -> str:
        """True when the JSON list in ``column`` holds the string parameter."""
        if self.postgres:
            # (not jsonb's ``?`` operator: ``?`` is this project's placeholder)
            return f"{column}::jsonb @> jsonb_build_array({placeholder}::text)"
        return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value = {placeholder})"

    def json_put(self, column: str, key: str = "?", value: str = "?") -> str:
        """The JSON object in ``column`` with the integer ``value`` stored under ``key`` (text)."""
        if self.postgres:
            return f"({column}::jsonb || jsonb_build_object({key}::text, {value}::bigint))::text"
        return f"json_set({column}, '$.' || {key}, {value})"

    def json_values_by_key(self, column: str) -> str:
        """The values of the JSON object in ``column`` as a JSON list, ordered by their integer keys."""
        if self.postgres:
            return (
                f"(SELECT coalesce(jsonb_agg(value ORDER BY key::int), '[]'::jsonb)::text "
                f"FROM jsonb_each({column}::jsonb))"
            )
        return (
            f"(SELECT coalesce(json_group_array(value), '[]') FROM "
            f"(SELECT value FROM json_each({column}) ORDER BY CAST(key AS INTEGER)))"
        )

    def days_before(self, day_sql: str, placeholder: str = "?") -> str:
        """The ISO date ``placeholder`` (an integer) days before the ISO date ``day_sql``."""
        if self.postgres:
            return f"to_char(({day_sql})::date - {placeholder}::int, 'YYYY-MM-DD')"
        return f"date(({day_sql}), '-' || {placeholder} || ' days')"

    def random_pk_at_most(self, max_sql: str) -> str:
        """A random integer in 1..``max_sql``."""
        if self.postgres:
            return f"floor(random() * ({max_sql}))::bigint + 1"
        return f"abs(random()) % ({max_sql}) + 1"


SQLITE = Dialect(Backend.SQLITE)
POSTGRES = Dialect(Backend.POSTGRES)


def quoted_identifier(name: str) -> str:
    """A table, column, index or constraint name read from the catalog, quoted as an SQL
    identifier (the same rule on both backends), for statements that must name it."""
    return '"' + name.replace('"', '""') + '"'


class Connection(Protocol):
    """The routed connection of a store: the open transaction's inside ``transaction()``, a
    read connection (or the pool) everywhere else."""

    @property
    def dialect(self) -> Dialect: ...

    def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Result: ...

    async def fetch_all(self, sql: str, parameters: Iterable[Any] | None = None) -> list[Any]:
        """Every row of one query in one round trip (the hot read paths: search, autocomplete)."""
        ...

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Any: ...


@runtime_checkable
class BulkCopy(Protocol):
    """A connection that can write many rows as one stream (PostgreSQL's COPY)."""

    async def copy_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        binary: Sequence[str] | None = None,
    ) -> int: ...

    async def copy_binary(self, table: str, columns: Sequence[str], chunks: AsyncIterator[bytes]) -> int: ...


class Store(Protocol):
    """A paperbot store on either backend: what services and commands use."""

    writes: WriteHealth  # whether writes go through or are refused for lack of space

    @property
    def connection(self) -> Connection: ...

    @property
    def path(self) -> str: ...

    @property
    def dialect(self) -> Dialect: ...

    @property
    def writing(self) -> bool: ...

    def transaction(self) -> AbstractAsyncContextManager[Any]: ...

    async def schema_version(self) -> int: ...

    async def integrity(self) -> str: ...

    def file_size(self) -> int | None: ...

    async def close(self) -> None: ...
