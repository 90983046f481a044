"""A digest of a table's rows that SQLite and PostgreSQL compute alike (``migrate-store``'s check).

A count says nothing of a title changed on one side only. The digest is a SHA-256 over each row's
canonical text, the rows taken in primary-key order: each value as PostgreSQL's column type holds
it (an integer column's value as an integer, a text column's as text, so SQLite's loose typing
cannot make equal rows differ), the row as a compact JSON list. Key order is the same on both
sides: integers by value, text by code point (SQLite's BINARY collation on UTF-8 is byte order,
as is PostgreSQL's "C" collation, which the ordering query asks for by name).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

INTEGER_TYPES = frozenset({"smallint", "integer", "bigint"})

Canonical = Callable[[object], object]


def _as_int(value: object) -> object:
    if value is None or isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        return str(value)  # a value PostgreSQL's column could not hold shows as differing text


def _as_text(value: object) -> object:
    return value if value is None or isinstance(value, str) else str(value)


def canonical_for(pg_type: str) -> Canonical:
    """How a value of a column of PostgreSQL type ``pg_type`` is written in the digest."""
    return _as_int if pg_type in INTEGER_TYPES else _as_text


@dataclass(frozen=True, slots=True)
class TableShape:
    """The compared columns of one table, its key columns and how each column is compared."""

    table: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    canonical: tuple[Canonical, ...]
    text_columns: frozenset[str]

    def order_by(self, *, postgres: bool) -> str:
        """The ORDER BY list giving the same key order on both backends."""
        parts = []
        for column in self.key:
            collate = ' COLLATE "C"' if postgres and column in self.text_columns else ""
            parts.append(f'"{column}"{collate}')
        return ", ".join(parts)

    def canonical_row(self, row: Sequence[object]) -> list[object]:
        return [convert(value) for convert, value in zip(self.canonical, row, strict=True)]

    def key_of(self, row: Sequence[object]) -> tuple[object, ...]:
        values = self.canonical_row(row)
        return tuple(values[self.columns.index(column)] for column in self.key)


def row_text(values: list[object]) -> bytes:
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


class RowDigest:
    """The running digest of one table's rows, fed in key order."""

    def __init__(self, shape: TableShape) -> None:
        self._shape = shape
        self._hash = hashlib.sha256()
        self.rows = 0

    def add(self, row: Sequence[object]) -> None:
        self._hash.update(row_text(self._shape.canonical_row(row)))
        self.rows += 1

    def hexdigest(self) -> str:
        return self._hash.hexdigest()
