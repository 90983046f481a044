"""A digest of a table's rows that SQLite and PostgreSQL compute alike (``migrate-store``'s check).

A count says nothing of a title changed on one side only. The digest is a SHA-256 over each row's
canonical text, the rows taken in primary-key order: each value as PostgreSQL's column type holds
it (an integer column's value as an integer, a text column's as text, so SQLite's loose typing
cannot make equal rows differ), the row as Python's ``repr`` of the tuple of those values (exact
for integers, text and NULL, and made in C: a million papers' rows are hashed on each side).
Key order is the same on both sides: integers by value, text by code point (SQLite's BINARY
collation on UTF-8 is byte order, as is PostgreSQL's "C" collation, which the ordering query asks
for by name).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

INTEGER_TYPES = frozenset({"smallint", "integer", "bigint"})

Canonical = Callable[[object], object]


def _as_int(value: object) -> object:
    try:
        return int(str(value))
    except ValueError:
        return str(value)  # a value PostgreSQL's column could not hold shows as differing text


def canonical_for(pg_type: str) -> tuple[type, Canonical]:
    """The Python type a value of a column of PostgreSQL type ``pg_type`` has in the digest, and
    how a value of another type is made one."""
    return (int, _as_int) if pg_type in INTEGER_TYPES else (str, str)


@dataclass(frozen=True, slots=True)
class TableShape:
    """The compared columns of one table, its key columns and how each column is compared."""

    table: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    canonical: tuple[tuple[type, Canonical], ...]  # per column: its type, how to make a value one
    text_columns: frozenset[str]

    def order_by(self, *, postgres: bool) -> str:
        """The ORDER BY list giving the same key order on both backends."""
        parts = []
        for column in self.key:
            collate = ' COLLATE "C"' if postgres and column in self.text_columns else ""
            parts.append(f'"{column}"{collate}')
        return ", ".join(parts)

    def canonical_row(self, row: Sequence[object]) -> tuple[object, ...]:
        return tuple(
            value if value is None or type(value) is kind else convert(value)
            for (kind, convert), value in zip(self.canonical, row, strict=True)
        )

    def key_of(self, row: Sequence[object]) -> tuple[object, ...]:
        values = self.canonical_row(row)
        return tuple(values[self.columns.index(column)] for column in self.key)


class RowDigest:
    """The running digest of one table's rows, fed in key order (a chunk of rows at a time)."""

    def __init__(self, shape: TableShape) -> None:
        self._shape = shape
        self._hash = hashlib.sha256()
        self.rows = 0

    def add(self, rows: Sequence[Sequence[object]]) -> None:
        canonical = self._shape.canonical_row
        text = "".join(repr(canonical(row)) + "\n" for row in rows)
        self._hash.update(text.encode("utf-8", "surrogatepass"))
        self.rows += len(rows)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()
