"""A cold bulk load on PostgreSQL: papers ingested into an empty store in one transaction get their
full-text (GIN) indexes, and the look-up indexes the load itself never reads, built once at the end,
instead of one paper at a time.

Adding a paper to a GIN index costs the server about 45 us (each of its words is a posting-tree
insert); building the index over all the rows at once sorts the words first and costs about 15 us a
paper (docs/performance.md, "Fifth session: PostgreSQL ingest"). Only when nothing is stored yet:
the indexes are dropped and made again inside the ingest's own transaction, so a failure anywhere
rolls them back with the rows, and a store that already holds papers is never left without its
index, not even inside a transaction. While the load runs, the papers table is locked against
other processes' reads (they wait for the commit; there was nothing to find before it anyway).

The same holds for the b-tree indexes of the tables the ingest writes that back no constraint: an
author row went into three b-trees, its two look-up indexes (autocomplete by name and family name)
9 us of the server's CPU a paper, sorted and built at the end in about 2. And for the papers' own
look-up b-trees (id, arxiv_id, title_key): a cold load places its batches against the rows it wrote
itself (bot.storage.loaded_papers), so nothing reads them while it runs; the unique ones come back
at the end as the same constraints, whose build refuses an id or arXiv id stored twice, failing the
load as the row's insert would have. The papers' primary key stays (rows are updated by it); the
listings' and author rows' keys go too, and come back at the end: the load writes those rows only
there, one COPY stream a table (bot.storage.held_links), and a key built over them sorted costs a
fraction of the inserts one by one.

The end of the load keeps this process busy while the server builds: ``IndexBuilds.build_beside``
runs the caller's work on a thread while the GIN indexes are built (the event loop only awaits
the server), then writes what it made, then builds the b-trees and the constraints over it.

Every ingest on PostgreSQL, cold or not, also gives its transaction room to keep the title table's
trigger rows in memory (TRIGGER_ROWS_MEMORY below).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from bot.storage.connection import Connection
from bot.storage.connection import quoted_identifier as _quoted

# Below this many papers a cold load's rebuild saves too little to lock the table for.
COLD_LOAD_PAPERS = 10_000
# The build sorts the words in this much memory (the default, 64 MB, spills a large load to disk
# in runs and makes it about a third dearer).
BUILD_MEMORY = "256MB"
# The title table's trigger (migration 0024) reads the statement's new papers from a transition
# table, which holds each whole row (about 3 kB with its search vector): past work_mem (4 MB by
# default, about 1,300 rows) the server writes it to a temporary file and reads it back. An upsert
# batch of 2,000 papers spilled every time: 3.3 kB of temporary file a paper, and the trigger's
# share of the server's CPU fell from 7% to 4.5% without it, about 3 us a paper (docs/performance.md,
# "Seventh session: PostgreSQL ingest (server)"). This holds a batch of 2,000 with room to spare,
# and is only taken while a statement needs it.
TRIGGER_ROWS_MEMORY = "64MB"
# The tables an ingest writes whose plain b-tree indexes are built at the end of a cold load.
WRITTEN_TABLES = ("papers", "listings", "paper_people")
# The tables whose unique constraints (not the primary key) are added back at the end of a cold
# load: no statement of the load names them (no ON CONFLICT on them, no look-up by them).
CHECKED_AT_END = ("papers",)
# The tables whose primary keys are added back at the end of a cold load too: the load writes their
# rows only there (bot.storage.held_links), in one COPY stream each, so nothing upserts by them.
# A key built over the sorted rows costs the server a fraction of its 450,000 inserts one by one
# (the author rows of 100,000 papers).
KEYED_AT_END = ("listings", "paper_people", "paper_signals")
Made = TypeVar("Made")


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """An index or constraint a cold load dropped: its table, name and the statement that makes it
    again; ``gin``: a GIN index (the catalog's access method)."""

    table: str
    name: str
    statement: str
    gin: bool = False


class IndexBuilds:
    """The indexes and constraints a cold load dropped, made again at its end (``build``)."""

    def __init__(self, db: Connection, indexes: list[Rebuilt], constraints: list[Rebuilt]) -> None:
        self._db = db
        # Each index before the constraints, as a constraint's own index is made by its ALTER TABLE.
        self._all = [*indexes, *constraints]
        self.built = False

    async def build(self) -> None:
        """Build them all, the GIN indexes first."""
        self.built = True
        await self._db.execute(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
        await self._run(sorted(self._all, key=lambda rebuilt: not rebuilt.gin))

    async def build_beside(
        self, meanwhile: Callable[[], Made], then: Callable[[Made], Awaitable[None]]
    ) -> None:
        """Build the GIN indexes (the papers' search column's is most of the end of a load: about
        1.8 s at 100,000 papers) while ``meanwhile`` runs on a thread of this process (the event
        loop only awaits the server's answer), then ``then`` writes what it made, then the b-trees
        and the constraints (after ``then``: it may write to their tables)."""
        self.built = True
        await self._db.execute(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
        building = asyncio.ensure_future(self._run([rebuilt for rebuilt in self._all if rebuilt.gin]))
        try:
            made = await asyncio.to_thread(meanwhile)
        finally:
            await building  # the connection is free again (a failure of either is raised)
        await then(made)
        await self._run([rebuilt for rebuilt in self._all if not rebuilt.gin])

    async def _run(self, rebuilt: list[Rebuilt]) -> None:
        for each in rebuilt:
            await self._db.execute(each.statement)


@asynccontextmanager
async def search_indexes_built_after(db: Connection, papers: int) -> AsyncIterator[IndexBuilds | None]:
    """Inside the ingest's transaction: when ``papers`` is a cold load (the store holds no paper
    yet, at least COLD_LOAD_PAPERS coming), drop the GIN indexes of the empty tables, the plain
    b-trees of the tables it writes and the papers' unique constraints, and make them again when
    the block ends (yields their ``IndexBuilds``, whose ``build`` the block may call itself to do
    work of its own during the builds; None when it is no cold load. The load must place its
    batches against its own rows, not read these indexes). On PostgreSQL, cold or not, the
    transaction's statements keep the title trigger's rows in memory."""
    if db.dialect.postgres:
        await db.execute(f"SET LOCAL work_mem = '{TRIGGER_ROWS_MEMORY}'")
    if not await is_cold_load(db, papers):
        yield None
        return
    # Every GIN index of a table that is empty now (the papers' search column and any table the
    # database fills from papers: a later migration's trigger-fed title table, say), and the
    # b-trees of the written tables that no constraint owns.
    indexes = await _named_definitions(
        db,
        "SELECT t.relname, i.relname, pg_get_indexdef(i.oid), a.amname FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "JOIN pg_am a ON a.oid = i.relam "
        "WHERE t.relnamespace = current_schema()::regnamespace AND (a.amname = 'gin' OR ("
        f"a.amname = 'btree' AND t.relname IN ({db.dialect.texts()}) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid))) "
        "ORDER BY i.relname",
        WRITTEN_TABLES,
    )
    constraints = await _named_definitions(
        db,
        "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid), '' FROM pg_constraint c "
        "JOIN pg_class t ON t.oid = c.conrelid "
        "WHERE t.relnamespace = current_schema()::regnamespace "
        f"AND (c.contype = 'u' AND t.relname IN ({db.dialect.texts()}) "
        f"OR c.contype = 'p' AND t.relname IN ({db.dialect.texts()})) ORDER BY c.conname",
        CHECKED_AT_END,
        KEYED_AT_END,
    )
    empty = [
        Rebuilt(table, name, definition, gin=method == "gin")
        for table, name, definition, method in indexes
        if not await holds_rows(db, table)
    ]
    unchecked = [
        Rebuilt(table, name, f"ALTER TABLE {_quoted(table)} ADD CONSTRAINT {_quoted(name)} {definition}")
        for table, name, definition, _ in constraints
        if not await holds_rows(db, table)
    ]
    for index in empty:
        await db.execute(f"DROP INDEX {_quoted(index.name)}")
    for constraint in unchecked:
        table, name = _quoted(constraint.table), _quoted(constraint.name)
        await db.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    builds = IndexBuilds(db, empty, unchecked)
    yield builds
    if not builds.built:
        await builds.build()


async def is_cold_load(db: Connection, papers: int) -> bool:
    """Whether ingesting ``papers`` papers now is a cold load: PostgreSQL, at least COLD_LOAD_PAPERS
    of them, and no paper stored yet."""
    return db.dialect.postgres and papers >= COLD_LOAD_PAPERS and not await _any_paper(db)


async def _named_definitions(
    db: Connection, sql: str, *tables: tuple[str, ...]
) -> list[tuple[str, str, str, str]]:
    """(table, name, definition, access method or '') rows of a catalog query over each list of
    ``tables``."""
    parameters = tuple(json.dumps(names) for names in tables)
    rows = await db.fetch_all(sql, parameters)
    return [(str(row[0]), str(row[1]), str(row[2]), str(row[3])) for row in rows]


async def _any_paper(db: Connection) -> bool:
    return bool(await db.fetch_all("SELECT 1 FROM papers LIMIT 1"))


async def holds_rows(db: Connection, table: str) -> bool:
    """Whether ``table`` holds any row."""
    # A name from the catalog or this package, never from anyone's input, quoted as an identifier.
    return bool(await db.fetch_all(f"SELECT 1 FROM {_quoted(table)} LIMIT 1"))
