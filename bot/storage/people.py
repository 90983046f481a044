"""Who listed papers are by (author slots with their claims, organisations): every SQL statement about it."""

from __future__ import annotations

import functools
import json
import operator
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from bot.domain.models import ListedPaper
from bot.domain.people import AuthorCredit, Credits, PersonKind, family_of_folded, fold_name
from bot.storage.connection import BulkCopy, Connection, Store


@dataclass(frozen=True, slots=True)
class KnownPerson:
    """A stored author or organisation, for autocomplete: the name, its HF id, on how many papers."""

    name: str
    hf_id: str | None
    papers: int


PersonRow = tuple[int, str, int, str, str, str, str | None]
PERSON_COLUMNS = ("paper_pk", "kind", "position", "name", "folded", "family", "hf_id")
# The columns' kinds in COPY's binary format (bot.storage.pg_copy.BINARY_KINDS): encoded in C a
# row costs a tenth of its line in the text format, and the server parses no text.
PERSON_KINDS = ("int8", "text", "int8", "text", "text", "text", "text")
INSERT_PEOPLE = (
    "INSERT INTO paper_people (paper_pk, kind, position, name, folded, family, hf_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) "
)


@functools.lru_cache(maxsize=1 << 16)  # authors recur across papers: each name is folded once an ingest
def folded_and_family(name: str) -> tuple[str, str]:
    """A name's ``folded`` and ``family`` columns, as one look-up per row."""
    folded = fold_name(name)
    return folded, family_of_folded(folded)


def person_row(pk: int, kind: str, position: int, name: str, hf_id: str | None) -> PersonRow:
    return (pk, kind, position, name, *folded_and_family(name), hf_id)


def name_rows(pk: int, authors: Sequence[str]) -> list[PersonRow]:
    """Author rows from names alone (no claims): each name at its place in the list; a name without
    a letter or digit (nothing to look it up by) is skipped, as migration 0027 skips it."""
    return [
        (pk, "author", at, name, folded, family, None)
        for at, name in enumerate(authors)
        for folded, family in (folded_and_family(name),)
        if folded
    ]


@dataclass(frozen=True, slots=True)
class BatchCredits:
    """Who one batch's listings say its papers are by: ``credited``, the rows of every paper listed
    with credits (replacing all it had); ``named``, the author names of the papers listed by name
    only and never with credits in the batch (rows only for a paper without author rows)."""

    credited: dict[tuple[int, str, int], PersonRow]
    credited_pks: set[int]
    named: dict[int, Sequence[str]]


def batch_credits(listings: Sequence[tuple[ListedPaper, int]]) -> BatchCredits:
    """What ``record_people`` writes for one batch, made without reading the store."""
    credited: dict[tuple[int, str, int], PersonRow] = {}
    named: dict[int, Sequence[str]] = {}
    for item, pk in listings:
        credits = item.credits
        if credits is None:
            if item.paper.authors:
                named.setdefault(pk, item.paper.authors)
            continue
        # A paper listed twice with credits in one batch: the later listing's slot wins, as the
        # upsert row after row would leave it.
        for at, slot in enumerate(credits.authors):
            credited[(pk, "author", at)] = person_row(pk, "author", at, slot.name, slot.hf_user)
        if credits.org_id or credits.org_name:
            org = credits.org_name or credits.org_id or ""
            credited[(pk, "org", 0)] = person_row(pk, "org", 0, org, credits.org_id)
    credited_pks = {pk for item, pk in listings if item.credits is not None}
    for pk in credited_pks:
        named.pop(pk, None)
    return BatchCredits(credited, credited_pks, named)


async def record_people(
    db: Connection, listings: Sequence[tuple[ListedPaper, int]], fresh: Collection[int] = frozenset()
) -> None:
    """Replace the credits of every listed paper that came with them, by the stored paper's pk; a
    paper a source lists by name only (the arXiv feed, page text) gets author rows from its names
    when it has none, so author follows and autocomplete know it too (inside the ingest's transaction).
    ``fresh``: the pks this batch inserted, which can have no rows yet (none to look up or replace)."""
    batch = batch_credits(listings)
    credited, named = batch.credited, batch.named
    old = sorted(pk for pk in batch.credited_pks if pk not in fresh)
    if old:
        await db.execute(
            f"DELETE FROM paper_people WHERE paper_pk IN ({db.dialect.ints()})", (json.dumps(old),)
        )
    # The rows of papers stored just now cannot collide with any: written without a conflict clause
    # (as one COPY stream on PostgreSQL); the others replace what is stored.
    new_rows = [row for pk in named if pk in fresh for row in name_rows(pk, named[pk])]
    new_rows += [row for row in credited.values() if row[0] in fresh]
    await _write_new(db, new_rows)
    # The stored papers' credits: every row of theirs was deleted just above, so these collide
    # with none either.
    replacing = [row for row in credited.values() if row[0] not in fresh]
    if replacing:
        await db.executemany(INSERT_PEOPLE, replacing)
        await _count_names(db, replacing)
    stored_named = {pk: authors for pk, authors in named.items() if pk not in fresh}
    if stored_named:
        await _record_names(db, stored_named)


async def _write_new(db: Connection, rows: list[PersonRow]) -> None:
    if not rows:
        return
    if isinstance(db, BulkCopy):
        await db.copy_rows("paper_people", PERSON_COLUMNS, rows, binary=PERSON_KINDS)
    else:
        await db.executemany(INSERT_PEOPLE, rows)
    await _count_names(db, rows)


async def _count_names(db: Connection, rows: Sequence[PersonRow]) -> None:
    """Add rows just written to their names' slot counts (``people_names``, migration 0032), one
    upsert per distinct name of the batch. Every insert into paper_people comes through here;
    deletes are counted by the database's trigger."""
    await add_name_slots(db, name_slots(rows))


NameKey = tuple[str, str, str, str, str]  # kind, name, claim ('' for none), folded, family
_NAME_FIELDS = operator.itemgetter(1, 3, 6, 4, 5)  # a PersonRow's kind, name, hf_id, folded, family


def name_slots(rows: Iterable[PersonRow]) -> Counter[NameKey]:
    """How many of ``rows`` each ``people_names`` row counts: counted by the fields as they are
    (Counter's loop in C; a key made per row was most of the cost of 450,000 rows), then merged
    by claim (an unclaimed slot, None, is the claim '')."""
    slots: Counter[NameKey] = Counter()
    for (kind, name, hf_id, folded, family), count in Counter(map(_NAME_FIELDS, rows)).items():
        slots[(kind, name, hf_id or "", folded, family)] += count
    return slots


async def add_name_slots(db: Connection, slots: Counter[NameKey]) -> None:
    """Add ``slots`` to the names' slot counts (a name counted at 0 gets its row at 0). Sorted, so
    two processes ingesting at once on PostgreSQL take the rows' locks in one order and cannot
    deadlock."""
    if not slots:
        return
    names = sorted((*key, count) for key, count in slots.items())
    upsert = (
        "INSERT INTO people_names (kind, name, claim, folded, family, slots) {rows} "
        "ON CONFLICT (kind, name, claim) DO UPDATE SET slots = people_names.slots + excluded.slots"
    )
    if db.dialect.postgres:
        # One statement for the batch (a Bind and an Execute per name would cost the server more).
        source = db.dialect.json_rows("text", "text", "text", "text", "text", "int")
        rows_sql = f"SELECT c0, c1, c2, c3, c4, c5 FROM {source} AS names"
        await db.execute(upsert.format(rows=rows_sql), (json.dumps(names, ensure_ascii=False),))
        return
    # Row by row on SQLite: a statement writing many rows opens a statement savepoint, and FTS5
    # flushes its pending index to disk at every savepoint, so the batch's papers_fts rows would be
    # written as a small segment per batch instead of staying in the 32 MiB write buffer
    # (migration 0022) until the commit: about 6 us a paper more.
    await db.executemany(upsert.format(rows="VALUES (?, ?, ?, ?, ?, ?)"), names)


async def _record_names(db: Connection, named: dict[int, Sequence[str]]) -> None:
    """Author rows from names, only for stored papers without any: Hugging Face's credits (claims,
    their order) are never replaced by a feed's names, and a later HF listing replaces these."""
    sql = (
        "SELECT DISTINCT paper_pk FROM paper_people "
        f"WHERE kind = 'author' AND paper_pk IN ({db.dialect.ints()})"
    )
    async with db.execute(sql, (json.dumps(sorted(named)),)) as cursor:
        credited = {int(row["paper_pk"]) for row in await cursor.fetchall()}
    rows = [row for pk, authors in named.items() if pk not in credited for row in name_rows(pk, authors)]
    if rows:
        # Papers without author rows, each name at its own position: nothing to collide with.
        await db.executemany(INSERT_PEOPLE, rows)
        await _count_names(db, rows)


class PeopleRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    @classmethod
    def of(cls, database: Store) -> PeopleRepository:
        return cls(database.connection)

    async def credits(self, pks: Iterable[int]) -> dict[int, Credits]:
        """The stored credits of these papers (papers without any are absent)."""
        sql = (
            "SELECT paper_pk, kind, position, name, hf_id FROM paper_people "
            f"WHERE paper_pk IN ({self._db.dialect.ints()}) ORDER BY paper_pk, kind, position"
        )
        authors: dict[int, list[AuthorCredit]] = defaultdict(list)
        orgs: dict[int, tuple[str | None, str]] = {}
        async with self._db.execute(sql, (json.dumps(list(pks)),)) as cursor:
            for row in await cursor.fetchall():
                if row["kind"] == PersonKind.AUTHOR:
                    authors[row["paper_pk"]].append(AuthorCredit(row["name"], row["hf_id"]))
                else:
                    orgs[row["paper_pk"]] = (row["hf_id"], row["name"])
        found = {}
        for pk in set(authors) | set(orgs):
            org_id, org_name = orgs.get(pk, (None, None))
            found[pk] = Credits(tuple(authors.get(pk, ())), org_id, org_name)
        return found

    async def known(self, kind: PersonKind, typed: str, *, limit: int) -> list[KnownPerson]:
        """Stored names starting with ``typed`` (or whose family name does), most papers first."""
        folded = fold_name(typed)
        upper = folded + "\U0010ffff"
        sql = (
            # One name per person (the first in order), standard SQL: PostgreSQL refuses a column
            # neither grouped nor aggregated (autocomplete failed there outright).
            # Distinct names with their slot counts (migration 0032): a name no slot holds any more
            # keeps its row at 0.
            "SELECT min(name) AS name, nullif(max(claim), '') AS hf_id, sum(slots) AS papers "
            "FROM people_names WHERE kind = ? AND slots > 0 "
            "AND ((folded >= ? AND folded < ?) OR (family >= ? AND family < ?)) "
            "GROUP BY folded, claim ORDER BY papers DESC, folded LIMIT ?"
        )
        params = (str(kind), folded, upper, folded, upper, limit)
        async with self._db.execute(sql, params) as cursor:
            return [
                KnownPerson(row["name"], row["hf_id"], int(row["papers"])) for row in await cursor.fetchall()
            ]


# Papers read per round by the backfill: a store of a million papers is not held in memory at once.
BACKFILL_BATCH = 5_000


async def backfill_author_names(db: Connection) -> int:
    """Migration 0027 on PostgreSQL (SQLite's runs as SQL, with these very folding functions):
    author rows from the names every paper without any already keeps, as the ingest now writes
    them. PostgreSQL cannot fold a name as ``fold_name`` does (its C-locale lower() and character
    classes leave non-ASCII letters alone), so the rows are made here, in the migration's
    transaction. Returns how many rows it wrote."""
    written, after = 0, 0
    sql = (
        "SELECT pk, authors FROM papers WHERE pk > ? AND authors <> '[]' AND NOT EXISTS "
        "(SELECT 1 FROM paper_people WHERE paper_pk = papers.pk AND kind = 'author') "
        "ORDER BY pk LIMIT ?"
    )
    while True:
        async with db.execute(sql, (after, BACKFILL_BATCH)) as cursor:
            papers = [(int(row["pk"]), json.loads(row["authors"])) for row in await cursor.fetchall()]
        if not papers:
            return written
        rows = [
            row for pk, authors in papers for row in name_rows(pk, [a for a in authors if isinstance(a, str)])
        ]
        if rows:
            await db.executemany(INSERT_PEOPLE + "ON CONFLICT (paper_pk, kind, position) DO NOTHING", rows)
        written += len(rows)
        after = papers[-1][0]
