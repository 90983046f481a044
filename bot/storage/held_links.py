"""A cold load's rows besides the papers' own: listings, momentum snapshots, author rows and their
names' slot counts, held batch by batch and made and written once at the end of the load.

Nothing a later batch of the load does reads these tables (its dedup reads the papers it wrote,
bot.storage.loaded_papers; an update rewrites a paper's row only), so they can wait for the
end. There the bench process makes their rows while the server builds the papers' full-text index
(bot.storage.pg_bulk: the one stretch of the load where this process had nothing to do, about 1.8
s at 100,000 papers), instead of in the stream, where this process is the critical path
(docs/performance.md, "Eleventh session: PostgreSQL ingest (end of the load)").

The rows made here are the ones the batches would have left, batch after batch: a listing or a
snapshot listed again keeps its later rank or counts; a paper credited again loses every row an
earlier batch gave it (and those rows' name slots, as migration 0032's delete trigger counts
them down, the name's row kept at 0); a paper listed by name only gets author rows from its names
only while it has none (``record_people``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.models import ListedPaper
from bot.storage.connection import BulkCopy, Connection
from bot.storage.people import (
    PERSON_COLUMNS,
    PERSON_KINDS,
    NameKey,
    PersonRow,
    add_name_slots,
    batch_credits,
    name_rows,
    name_slots,
)
from bot.storage.pg_bulk import holds_rows
from bot.storage.signals import unix

ListingRow = tuple[str, str, int, int]  # source, list_date, paper_pk, rank
SignalRow = tuple[int, int, int, int | None, int | None]  # paper_pk, taken_at, upvotes, comments, stars
# The columns' kinds in COPY's binary format (bot.storage.pg_copy.BINARY_KINDS).
LISTING_COLUMNS = ("source", "list_date", "paper_pk", "rank")
LISTING_KINDS = ("text", "text", "int8", "int8")
SIGNAL_COLUMNS = ("paper_pk", "taken_at", "upvotes", "comments", "stars")
SIGNAL_KINDS = ("int8", "int8", "int8", "int8", "int8")
NAME_COLUMNS = ("kind", "name", "claim", "folded", "family", "slots")
NAME_KINDS = ("text", "text", "text", "text", "text", "int8")


@dataclass(frozen=True, slots=True)
class LinkRows:
    """What a cold load's batches would have left in the tables beside the papers."""

    listings: list[ListingRow]
    signals: list[SignalRow]
    people: list[PersonRow]
    names: Counter[NameKey]  # slots added (a name whose rows all went again: 0)


@dataclass(slots=True)
class HeldLinks:
    """The listings of each batch of a cold load, by the stored paper's pk, with the pks the batch
    inserted and the moment of its ingest."""

    _batches: list[tuple[Sequence[tuple[ListedPaper, int]], frozenset[int], datetime]] = field(
        default_factory=list
    )

    def hold(self, listings: Sequence[tuple[ListedPaper, int]], fresh: frozenset[int], now: datetime) -> None:
        self._batches.append((listings, fresh, now))

    def rows(self) -> LinkRows:
        """The rows, made without reading the store (it may run on a thread while the server builds)."""
        listings: dict[tuple[str, str, int], int] = {}
        signals: dict[tuple[int, int], SignalRow] = {}
        people = _People()
        for batch, fresh, now in self._batches:
            taken_at = unix(now)
            for item, pk in batch:
                if item.list_date is not None:
                    listings[(item.paper.source, item.list_date.isoformat(), pk)] = item.rank or 0
                if item.signals is not None:
                    counts = item.signals
                    signals[(pk, taken_at)] = (pk, taken_at, counts.upvotes, counts.comments, counts.stars)
            people.record(batch, fresh)
        return LinkRows(
            [(*key, rank) for key, rank in listings.items()],
            list(signals.values()),
            [row for rows in people.rows.values() for row in rows],
            people.slots(),
        )


@dataclass(slots=True)
class _People:
    """``record_people`` batch after batch, on rows in memory."""

    rows: dict[int, list[PersonRow]] = field(default_factory=dict)  # by paper pk
    gone: list[PersonRow] = field(default_factory=list)  # rows a later batch's credits replaced

    def record(self, listings: Sequence[tuple[ListedPaper, int]], fresh: frozenset[int]) -> None:
        batch = batch_credits(listings)
        for pk in batch.credited_pks - fresh:
            self.gone += self.rows.pop(pk, ())
        for row in batch.credited.values():
            self.rows.setdefault(row[0], []).append(row)
        for pk, authors in batch.named.items():
            if pk in fresh or not any(row[1] == "author" for row in self.rows.get(pk, ())):
                self.rows.setdefault(pk, []).extend(name_rows(pk, authors))

    def slots(self) -> Counter[NameKey]:
        """The names' slots the rows hold; a name only replaced rows held is counted at 0, as the
        delete trigger leaves it."""
        slots = name_slots(row for rows in self.rows.values() for row in rows)
        for key in name_slots(self.gone):
            slots.setdefault(key, 0)
        return slots


async def write_links(db: Connection, rows: LinkRows) -> None:
    """Write a cold load's rows beside its papers. The tables' rows all belong to papers (they go
    with them), and a cold load starts with none: one COPY stream each. The names' counts may
    outlive their papers (a row at 0): upserted onto those, else a COPY too."""
    assert isinstance(db, BulkCopy)  # a cold load is PostgreSQL's
    await db.copy_rows("listings", LISTING_COLUMNS, rows.listings, binary=LISTING_KINDS)
    await db.copy_rows("paper_signals", SIGNAL_COLUMNS, rows.signals, binary=SIGNAL_KINDS)
    await db.copy_rows("paper_people", PERSON_COLUMNS, rows.people, binary=PERSON_KINDS)
    if await holds_rows(db, "people_names"):
        await add_name_slots(db, rows.names)
    else:
        names = sorted((*key, count) for key, count in rows.names.items())
        await db.copy_rows("people_names", NAME_COLUMNS, names, binary=NAME_KINDS)
