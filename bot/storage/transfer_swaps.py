"""Room for rows that swapped a unique value (``migrate-store``'s re-run).

Two papers whose arxiv ids were mixed up and put right in the SQLite store, or two follows of one
member whose keywords traded places: upserting the first row gives it a value the second still
holds in PostgreSQL, and a unique index is checked row by row, so the server refused the copy.
Before a table's upsert, every target row holding a unique value that the source gives to another
row (by key) gets a placeholder instead; the upsert then writes each row's own value. A row is
only ever displaced when the source holds it too (the rows it lacks are already deleted), so the
upsert always overwrites the placeholder, in the same transaction.
"""

from __future__ import annotations

import uuid

import asyncpg

from bot.storage.connection import quoted_identifier as _quoted
from bot.storage.row_digest import TableShape


async def unique_column_sets(connection: asyncpg.Connection, table: str) -> list[tuple[str, ...]]:
    """The column lists of ``table``'s unique indexes other than its primary key. An index on an
    expression or over part of the rows is not one (the schema has none: a new one fails here)."""
    rows = await connection.fetch(
        "SELECT i.indexprs IS NOT NULL OR i.indpred IS NOT NULL, i.indexrelid::regclass::text, "
        "array_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum)) "
        "FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
        "WHERE i.indrelid = $1::regclass AND i.indisunique AND NOT i.indisprimary "
        "GROUP BY i.indexrelid ORDER BY i.indexrelid",
        _quoted(table),
    )
    for partial, index, _columns in rows:
        if partial:
            raise RuntimeError(f"the unique index {index} is over an expression or part of {table}'s rows")
    return [tuple(columns) for _partial, _index, columns in rows]


async def make_room(connection: asyncpg.Connection, shape: TableShape, stage: str) -> int:
    """Give a placeholder to each row of ``shape.table`` holding a unique value that another row of
    ``stage`` (the source's rows) takes; how many rows were displaced."""
    table = _quoted(shape.table)
    # Unique per run and row: never a value of the source, never two rows alike.
    marker = f"paperbot-migrate-store-{uuid.uuid4().hex}"
    displaced = 0
    for columns in await unique_column_sets(connection, shape.table):
        if not set(columns) <= set(shape.columns):
            continue  # a column the file does not have is never written: nothing moves there
        movable = [c for c in columns if c in shape.text_columns]
        if not movable:
            raise RuntimeError(f"{shape.table}({', '.join(columns)}): no text column to move aside")
        moved = _quoted(movable[-1])
        same_values = " AND ".join(f"s.{_quoted(c)} = t.{_quoted(c)}" for c in columns)
        other_row = " OR ".join(f"s.{_quoted(c)} IS DISTINCT FROM t.{_quoted(c)}" for c in shape.key)
        keys = ", ".join(f"t.{_quoted(c)}::text" for c in shape.key)
        status = await connection.execute(
            f"UPDATE {table} AS t SET {moved} = concat_ws(':', $1::text, {keys}) "
            f"WHERE EXISTS (SELECT 1 FROM {stage} AS s WHERE {same_values} AND ({other_row}))",
            marker,
        )
        displaced += int(status.split()[-1])
    return displaced
