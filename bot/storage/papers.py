"""Papers, listings and the full-text index: every SQL statement about them."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain
from typing import TYPE_CHECKING

from bot.domain.dedup import Placement, place
from bot.domain.models import ListedPaper, Paper, merge
from bot.domain.text import word_set
from bot.parsing.skipped import SkippedEntry
from bot.storage.connection import BulkCopy, Connection, Row, Store
from bot.storage.copy_ahead import CopyAhead
from bot.storage.held_links import LISTING_COLUMNS, LISTING_KINDS, HeldLinks, LinkRows, write_links
from bot.storage.loaded_papers import LoadedPapers
from bot.storage.paper_rows import (
    PAPER_FIELDS,
    PreparedBatch,
    copy_rows,
    index_texts,
    prepare,
    row_values,
    title_terms,
)
from bot.storage.people import record_people
from bot.storage.pg_bulk import holds_rows, is_cold_load, search_indexes_built_after
from bot.storage.pg_copy import binary_chunks
from bot.storage.pg_search import PgTextSearch, paper_document, word_tally
from bot.storage.signals import record_signals
from bot.storage.word_counts import batch_word_counts

if TYPE_CHECKING:
    from bot.storage.pg_document import Tally

# bm25() column weights (title, abstract, authors): how to rank is the caller's (the service's) choice.
Weights = tuple[float, float, float]
# Classic BM25 over title and abstract alike: the baseline search quality is measured against.
PLAIN_BM25: Weights = (1.0, 1.0, 0.0)
_FIELDS = PAPER_FIELDS
# The papers COPY's columns, and how pg_copy.BINARY_KINDS sends each: bigint pk and upvotes,
# integer arxiv_version, the search vector in tsvectorsend's bytes, the rest text
# (tests/storage/test_pg_document.py checks them against the table).
_COPY_COLUMNS = ("pk", *_FIELDS, "created_at", "search")
_COPY_KINDS = (
    "int8",
    *("int8" if name == "upvotes" else "int4" if name == "arxiv_version" else "text" for name in _FIELDS),
    "text",
    "raw",
)
# A paper the COPY leaves out (paper_rows.copy_rows): its row with the search document's text.
_INSERT_WITH_DOCUMENT = (
    f"INSERT INTO papers ({', '.join(_COPY_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _COPY_COLUMNS[1:])}, ?::text::tsvector)"
)
_COLUMNS = ", ".join(_FIELDS)
_SELECT = f"SELECT pk, {_COLUMNS}, created_at FROM papers"
_PK_SEQUENCE = "pg_get_serial_sequence('papers', 'pk')"
RECENT_LIMIT = 2000  # the most recent papers a new follow is counted against
# The indexes hold folded words (migration 0007); these SQL functions are bot.domain.text's. An
# ASCII title's folded words are its title_key, stored already (a title with Han or kana is folded
# anew: its key keeps those runs whole, the index holds their characters, migration 0021). ASCII
# text (as many bytes as characters) is already what unicode61 makes of its folded words, so most
# rows never call into Python (a call per row was most of the ingest time the folding added); an
# author list must also hold no JSON escape (backslash). tests/storage/test_index_text.py checks
# these agree.
TITLE_INDEX_TEXT = (
    "CASE WHEN length(CAST(title AS BLOB)) = length(title) THEN title_key "
    "ELSE paperbot_search_text(title) END"
)
ABSTRACT_INDEX_TEXT = (
    "CASE WHEN length(CAST(abstract AS BLOB)) = length(abstract) THEN abstract "
    "ELSE paperbot_search_text(abstract) END"
)
AUTHORS_INDEX_TEXT = (
    "CASE WHEN length(CAST(authors AS BLOB)) = length(authors) AND instr(authors, char(92)) = 0 "
    "THEN authors ELSE paperbot_authors_text(authors) END"
)
_FTS_ROWS = (
    f"(rowid, title, abstract, authors) SELECT pk, {TITLE_INDEX_TEXT}, {ABSTRACT_INDEX_TEXT}, "
    f"{AUTHORS_INDEX_TEXT} FROM papers"
)
_TITLE_FTS_ROWS = f"(rowid, title) SELECT pk, {TITLE_INDEX_TEXT} FROM papers"
# ``_existing_for`` on PostgreSQL: each id and title key of the batch looked up through its index, then
# each row found by its pk. Asked as `id IN (...) OR title_key IN (...)`, PostgreSQL scanned every
# stored row for every batch (a hash of the wanted values tested against each row): without
# statistics, as in a cold load's own transaction, it expects each title key to match 0.5% of the
# rows. That was 6 us of server CPU a paper at 20,000 papers and 18 us at 100,000 (each batch scans
# all the batches before it). OFFSET 0 keeps each probe a probe: the planner may not merge it into a join.
_PG_EXISTING = (
    "SELECT stored.* FROM (SELECT found.pk FROM jsonb_array_elements_text(?::jsonb) AS wanted(id) "
    "CROSS JOIN LATERAL (SELECT pk FROM papers WHERE papers.id = wanted.id OFFSET 0) AS found "
    "UNION SELECT found.pk FROM jsonb_array_elements_text(?::jsonb) AS wanted(key) "
    "CROSS JOIN LATERAL (SELECT pk FROM papers WHERE papers.title_key = wanted.key OFFSET 0) AS found"
    f") AS matched CROSS JOIN LATERAL ({_SELECT} WHERE papers.pk = matched.pk OFFSET 0) AS stored"
)


def paper_columns(alias: str) -> str:
    """The columns ``paper_from_row`` reads besides pk and created_at, qualified by ``alias``."""
    return ", ".join(f"{alias}.{name}" for name in _FIELDS)


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    # The papers this upsert added (not those it updated): what follow alerts are matched against.
    inserted: tuple[StoredPaper, ...] = field(default=(), compare=False, repr=False)
    # Stored papers that had no code link and now have one: "code released" follows hear now.
    code_linked: tuple[StoredPaper, ...] = field(default=(), compare=False, repr=False)
    # Stored papers whose arXiv version went up (from v1 when none was seen): their savers hear.
    revised: tuple[StoredPaper, ...] = field(default=(), compare=False, repr=False)
    # Entries of the fetched lists left out as malformed: what `paperbot ingest` names after the counts.
    skipped: tuple[SkippedEntry, ...] = field(default=(), compare=False, repr=False)

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts.total((self, other))

    @staticmethod
    def total(parts: Sequence[UpsertCounts]) -> UpsertCounts:
        """The counts of all ``parts`` at once: each paper tuple is joined once, where adding batch
        after batch copied every paper inserted so far again (500 batches at a million papers)."""
        return UpsertCounts(
            sum(part.new for part in parts),
            sum(part.updated for part in parts),
            sum(part.unchanged for part in parts),
            tuple(chain.from_iterable(part.inserted for part in parts)),
            tuple(chain.from_iterable(part.code_linked for part in parts)),
            tuple(chain.from_iterable(part.revised for part in parts)),
            tuple(chain.from_iterable(part.skipped for part in parts)),
        )


@dataclass(frozen=True, slots=True)
class StoredPaper:
    pk: int
    paper: Paper


@dataclass(frozen=True, slots=True)
class TextHit:
    pk: int
    score: float


@dataclass(frozen=True, slots=True)
class MatchWindow:
    """Where a query's newest ``cap`` matches start (``floor``, 0 when no more than ``cap`` match)
    and how many papers match, counted up to the count cap."""

    floor: int
    total: int
    # The matches from the floor up, ascending, when finding the window walked them all anyway (a
    # ranked query can then take them as its filter instead of walking them again); else None.
    pks: tuple[int, ...] | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class BestOfWindow:
    """A query's window and its best matches (``PaperRepository.best_of_window``)."""

    window: MatchWindow
    phrased: list[TextHit]  # the best matches of the query's words as one phrase, best first
    ranked: list[TextHit]  # the best matches of the query, best first (phrase matches included)


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def paper_from_row(row: Row) -> StoredPaper:
    paper = Paper(
        title=row["title"],
        abstract=row["abstract"],
        source=row["source"],
        arxiv_id=row["arxiv_id"],
        authors=tuple(json.loads(row["authors"])),
        published=_date(row["published"]),
        first_listed=_date(row["first_listed"]),
        hf_url=row["hf_url"],
        code_url=row["code_url"],
        project_url=row["project_url"],
        thumbnail_url=row["thumbnail_url"],
        organization=row["organization"],
        upvotes=row["upvotes"],
        ai_summary=row["ai_summary"],
        ai_keywords=tuple(json.loads(row["ai_keywords"])),
        arxiv_version=row["arxiv_version"],
        primary_class=row["primary_class"],
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )
    return StoredPaper(row["pk"], paper)


class PaperRepository:
    """Reads and writes papers. Writers must run inside ``Database.transaction()``."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection
        # PostgreSQL searches its own tsvector column; None: SQLite's FTS5 tables below.
        self._pg = PgTextSearch(connection) if connection.dialect.postgres else None
        # During a cold load: the word and title-word counts of every batch so far, written once
        # when it ends.
        self._held_word_counts: Counter[str] | None = None
        self._held_title_counts: Counter[str] | None = None
        # During a cold load with the compiled vector builder: its word counts, read when it ends.
        self._held_tally: Tally | None = None
        # During a cold load: the rows it wrote, which its dedup reads instead of the server.
        self._loaded: LoadedPapers | None = None
        # During a cold load: each batch's listings (their snapshots and credits), written when it ends.
        self._held_links: HeldLinks | None = None
        # During a cold load: its papers COPY left finishing on the server while the next batch is
        # made, and the pks reserved for all its papers at once.
        self._copies: CopyAhead | None = None
        self._load_pks: _ReservedPks | None = None

    @classmethod
    def of(cls, database: Store) -> PaperRepository:
        return cls(database.connection)

    # ---- writing -------------------------------------------------------------------------

    @asynccontextmanager
    async def cold_load(self, papers: int) -> AsyncIterator[bool]:
        """Around the upserts of ``papers`` papers in one transaction: into an empty PostgreSQL
        store, a large load builds the full-text indexes and the papers' look-up b-trees once at
        the end (bot.storage.pg_bulk), places each batch against the rows it wrote itself
        (bot.storage.loaded_papers: the only rows there are), and writes the word counts
        (``term_docs``) and title-word counts (``title_terms``) once, not once a batch: the words
        common enough to be in every batch were upserted again by each (116,000 upserts for 94,000
        words at 100,000 papers), each a new version of the row and its index entry. The batches'
        listings, snapshots and author rows are held too (bot.storage.held_links), made on a
        thread while the server builds the full-text indexes, and written after them."""
        async with search_indexes_built_after(self._db, papers) as builds:
            if builds is None:
                yield False
                return
            held: Counter[str] = Counter()
            held_titles: Counter[str] = Counter()
            links = HeldLinks()
            tally = word_tally()
            copies = CopyAhead()
            self._held_word_counts, self._held_title_counts = held, held_titles
            self._loaded, self._held_links, self._held_tally = LoadedPapers(), links, tally
            self._copies, self._load_pks = copies, await self._reserved_pks(papers)
            try:
                yield True
            except BaseException as failure:
                await copies.abandon(failure)
                raise
            else:
                await copies.free()
                await self._release_unused_pks()
            finally:
                self._held_word_counts = self._held_title_counts = None
                self._loaded = self._held_links = self._held_tally = None
                self._copies = self._load_pks = None

            def made_beside_the_build() -> LinkRows:
                if tally is not None:
                    # Read once (about 94,000 words at 100,000 papers, where each batch's ~25,000
                    # went through Counter.update), on the thread beside the GIN build: about 60 ms
                    # the event loop's thread, idle then, no longer spends after it.
                    held.update(tally.take())
                return links.rows()

            async def write_held(rows: LinkRows) -> None:
                await write_links(self._db, rows)
                await self._write_held_counts(held, held_titles)

            await builds.build_beside(made_beside_the_build, write_held)

    async def _write_held_counts(self, words: Counter[str], titles: Counter[str]) -> None:
        """A cold load's word and title-word counts, written once when it ends (before its indexes
        are built). The count tables of a store that never held a paper are empty: there the counts
        go in as COPY streams, which cost the server about a third of the upserts over two arrays of
        about 94,000 words at 100,000 papers (and this process the arrays' encoding), at the end of
        the load where this process only waits (docs/performance.md, "Tenth session: PostgreSQL
        ingest (waits)"). A table holding rows (papers stored once and deleted by hand) is upserted."""
        if isinstance(self._db, BulkCopy) and not await holds_rows(self._db, "term_docs"):
            rows = sorted((term, count) for term, count in words.items() if count > 0)
            await self._db.copy_rows("term_docs", ("term", "docs"), rows)
        else:
            await self._count_paper_terms(words)
        if isinstance(self._db, BulkCopy) and not await holds_rows(self._db, "title_terms"):
            # Stamped as _count_title_terms stamps them: the generation the commit is about to bump to.
            stamp = await self._db.fetch_all("SELECT value + 1 FROM generations WHERE name = 'papers'")
            # A title word counted and counted down again (a retitled paper) keeps its row at 0, as
            # it would have batch by batch: readers must hear that it went.
            kept = sorted((term, count, int(stamp[0][0])) for term, count in titles.items() if count >= 0)
            await self._db.copy_rows("title_terms", ("term", "docs", "generation"), kept)
        else:
            await self._count_title_terms(titles, keep_zero=True)

    async def is_cold_load(self, papers: int) -> bool:
        """Whether ``cold_load(papers)`` would build the indexes at the end if it started now."""
        return await is_cold_load(self._db, papers)

    async def upsert(self, listed: Sequence[ListedPaper], now: datetime) -> UpsertCounts:
        """Store papers and their listings; which row each paper updates follows ``bot.domain.dedup``."""
        return await self.write(await self.prepare(listed, now))

    async def prepare(self, listed: Sequence[ListedPaper], now: datetime) -> PreparedBatch:
        """The rows of ``listed`` for ``write``: nothing read or written, so it may run while the
        store writes an earlier batch (``bot.storage.paper_rows``)."""
        return await prepare(listed, now, postgres=self._pg is not None)

    async def write(self, batch: PreparedBatch) -> UpsertCounts:
        """``upsert`` of a prepared batch: placed against the rows stored now (every earlier batch's
        included), then written."""
        listed, now, stamp = batch.listed, batch.now, batch.stamp
        existing = await self._existing_for(batch.candidates)
        placements = place(batch.candidates, [entry.paper for entry in existing])

        inserts: list[Placement] = []
        updates: list[tuple[int, Paper, Paper]] = []  # pk, before, after
        unchanged = 0
        pk_of: dict[int, int] = {}  # placement -> the stored row's pk
        for number, placement in enumerate(placements):
            if placement.stored is None:
                inserts.append(placement)
                continue
            found = existing[placement.stored]
            pk_of[number] = found.pk
            final = merge(found.paper, placement.paper)
            if final.content_hash() == found.paper.content_hash():
                unchanged += 1
            else:
                updates.append((found.pk, found.paper, final))

        if updates:
            await self._connection_free()
            await self._update(updates, stamp)
        inserted: list[StoredPaper] = []
        if inserts:
            inserted = await self._insert(batch, inserts)
        new_pks = iter(stored.pk for stored in inserted)  # in the order of the placements inserted
        for number, placement in enumerate(placements):
            if placement.stored is None:
                pk_of[number] = next(new_pks)
        # Every listing by its row's pk, known here: no look-up of the row by id per listing.
        listings = [
            (listed[member], pk_of[number])
            for number, placement in enumerate(placements)
            for member in placement.members
        ]
        fresh = frozenset(stored.pk for stored in inserted)
        if self._held_links is not None:
            self._held_links.hold(listings, fresh, now)  # nothing later in the load reads them
        else:
            await self._store_listings(listings, fresh)
            await record_signals(self._db, listings, now)
            await record_people(self._db, listings, fresh)
        code_linked = tuple(
            StoredPaper(pk, after) for pk, before, after in updates if after.code_url and not before.code_url
        )
        revised = tuple(
            StoredPaper(pk, after)
            for pk, before, after in updates
            if (after.arxiv_version or 1) > (before.arxiv_version or 1)
        )
        return UpsertCounts(len(inserts), len(updates), unchanged, tuple(inserted), code_linked, revised)

    async def _existing_for(self, papers: Sequence[Paper]) -> list[StoredPaper]:
        """Stored rows that could be the same paper as one in ``papers``: same id or same title key."""
        ids = sorted({paper.id for paper in papers})
        keys = sorted({paper.title_key for paper in papers})
        if self._loaded is not None:
            # Made from the papers the load wrote (no read: it would wait for the COPY in flight).
            return [StoredPaper(pk, self._loaded.stored(pk)) for pk in self._loaded.matching(ids, keys)]
        if self._pg is not None:
            rows = await self._db.fetch_all(_PG_EXISTING, (json.dumps(ids), json.dumps(keys)))
            return sorted((paper_from_row(row) for row in rows), key=lambda stored: stored.pk)
        sql = (
            f"{_SELECT} WHERE id IN ({self._db.dialect.texts()}) "
            f"OR title_key IN ({self._db.dialect.texts()}) ORDER BY pk"
        )
        async with self._db.execute(sql, (json.dumps(ids), json.dumps(keys))) as cursor:
            return [paper_from_row(row) for row in await cursor.fetchall()]

    async def _insert(self, batch: PreparedBatch, placements: Sequence[Placement]) -> list[StoredPaper]:
        if self._pg is not None:
            return await self._insert_pg([placement.paper for placement in placements], batch.stamp)
        stamp = batch.stamp
        papers = [(placement.paper, batch.row_of(placement)) for placement in placements]
        async with self._db.execute("SELECT coalesce(max(pk), 0) FROM papers") as cursor:
            row = await cursor.fetchone()
        before = int(row[0]) if row else 0
        # The pks SQLite would give (one above the largest, row after row), named here so the
        # index rows below and the listings need no look-up of the rows just written.
        pks = range(before + 1, before + 1 + len(papers))
        placeholders = ", ".join("?" * (len(_FIELDS) + 2))
        await self._db.executemany(
            f"INSERT INTO papers (pk, {_COLUMNS}, created_at) VALUES ({placeholders})",
            [(pk, *row.values, stamp) for pk, (_, row) in zip(pks, papers, strict=True)],
        )
        # The indexes are given the text from the values in hand (the *_INDEX_TEXT folding, done
        # in Python where ``isascii`` costs nothing), rather than reading every new row back out of
        # the table.
        counting = _count_words_aside([(row.title_text, row.abstract_text) for _, row in papers])
        try:
            await self._db.executemany(
                "INSERT INTO papers_fts (rowid, title, abstract, authors) VALUES (?, ?, ?, ?)",
                [
                    (pk, row.title_text, row.abstract_text, row.authors_text)
                    for pk, (_, row) in zip(pks, papers, strict=True)
                ],
            )
            await self._db.executemany(
                "INSERT INTO titles_fts (rowid, title) VALUES (?, ?)",
                [(pk, row.title_text) for pk, (_, row) in zip(pks, papers, strict=True)],
            )
            await self._count_title_terms(Counter(t for _, row in papers for t in row.title_terms))
        finally:
            counted = await counting  # a failed write is raised after the thread is done with its batch
        await self._count_paper_terms(Counter(dict(counted)))
        return [StoredPaper(pk, paper) for pk, (paper, _) in zip(pks, papers, strict=True)]

    async def _insert_pg(self, papers: Sequence[Paper], stamp: str) -> list[StoredPaper]:
        db = self._db
        assert isinstance(db, BulkCopy)
        pks = self._load_pks.take(len(papers)) if self._load_pks else None
        if pks is None:  # not a cold load, or one given more papers than it announced
            await self._connection_free()
            pks = await self._new_pks(len(papers))
        # The words' counts are made with the papers' vectors where the builder is compiled (in C,
        # without the GIL: docs/performance.md, "Twelfth session"), else on a thread of their own.
        tally = self._held_tally if self._held_tally is not None else word_tally()
        counting = None if tally is not None else _count_words_aside([index_texts(paper) for paper in papers])
        title_counts: Counter[str] = Counter()
        try:
            # One COPY stream in binary, each row made as the stream asks for it
            # (paper_rows.copy_rows). The search column goes in with the row (one write per paper):
            # the vector of the folded text, as SQLite's index holds it (migration 0001's
            # paperbot_document), in tsvectorsend's bytes.
            left_out: list[tuple[object, ...]] = []
            rows = copy_rows(papers, pks, stamp, title_counts, left_out, tally)
            if self._copies is None:
                await db.copy_rows("papers", _COPY_COLUMNS, rows, binary=_COPY_KINDS)
            else:
                # A cold load's COPY finishes on the server while the next batch is made
                # (bot.storage.copy_ahead).
                chunks = binary_chunks(rows, _COPY_KINDS)
                await self._copies.send(chunks, lambda sent: db.copy_binary("papers", _COPY_COLUMNS, sent))
            if left_out:
                await self._connection_free()
                await db.executemany(_INSERT_WITH_DOCUMENT, left_out)
            await self._count_title_terms(title_counts)
        finally:
            # A failed write is raised once the thread is done with its batch.
            counted = dict(await counting) if counting is not None else {}
        if tally is not None and tally is not self._held_tally:  # a cold load's is read when it ends
            counted = tally.take()  # every block is built: the stream has taken the last row
        await self._count_paper_terms(Counter(counted))
        if self._loaded is not None:
            self._loaded.inserted(
                (pk, paper.id, paper.title_key) for pk, paper in zip(pks, papers, strict=True)
            )
            self._loaded.written(pks, papers, stamp)
        return [StoredPaper(pk, paper) for pk, paper in zip(pks, papers, strict=True)]

    async def _connection_free(self) -> None:
        """Return once the connection runs no statement: a cold load's papers COPY may still be
        finishing (bot.storage.copy_ahead); its failure is raised here."""
        if self._copies is not None:
            await self._copies.free()

    async def _reserved_pks(self, papers: int) -> _ReservedPks:
        """pks for ``papers`` new papers from the papers table's sequence, taken at once for a whole
        cold load (it inserts no more papers than it was given): a batch's pks then need no round
        trip, so the batch is made while the server finishes the COPY before."""
        first = (await self._new_pks(papers))[0] if papers else 1
        return _ReservedPks(first, first + papers - 1)

    async def _release_unused_pks(self) -> None:
        """At the end of a cold load, the sequence set back to the last pk it used: a load whose
        batches inserted fewer papers than it was given (a paper listed twice) leaves no gap. Only
        when nobody took a value after the reservation (a concurrent insert waits for the load's
        lock on papers, but may have drawn its pks already)."""
        reserved = self._load_pks
        if reserved is None or reserved.next > reserved.last:
            return
        await self._db.execute(
            f"SELECT setval(s, ?, false) FROM CAST({_PK_SEQUENCE} AS regclass) AS s "
            "WHERE pg_sequence_last_value(s) = ?",
            (reserved.next, reserved.last),
        )

    async def _new_pks(self, count: int) -> list[int]:
        """``count`` new pks from the papers table's own sequence (unique across processes inserting
        at the same time), so the rows need no reading back by id."""
        sequence = _PK_SEQUENCE
        if self._loaded is not None:
            # A cold load takes its range at once (``_reserved_pks``) instead of by a nextval each
            # (3 us of the server's CPU a paper). Not atomic: the load's lock on papers does not
            # stop another process's nextval between these two calls; its insert then waits for
            # the load and fails on the pk constraint (nothing stored twice).
            sql = f"SELECT setval({sequence}, nextval({sequence}) + ? - 1)"
            last = int((await self._db.fetch_all(sql, (count,)))[0][0])
            return list(range(last - count + 1, last + 1))
        sql = f"SELECT nextval({sequence}) FROM generate_series(1, ?)"
        return sorted(int(row[0]) for row in await self._db.fetch_all(sql, (count,)))

    async def _update(self, updates: Sequence[tuple[int, Paper, Paper]], stamp: str) -> None:
        if self._pg is not None:
            assignments = ", ".join(f"{name} = ?" for name in _FIELDS)
            await self._db.executemany(
                f"UPDATE papers SET {assignments}, search = ?::text::tsvector WHERE pk = ?",
                [(*row_values(after, stamp), paper_document(after), pk) for pk, _, after in updates],
            )
            if self._loaded is not None:
                for pk, before, after in updates:
                    self._loaded.rewritten(pk, (before.id, before.title_key), (after.id, after.title_key))
                    self._loaded.updated(pk, after, stamp)
            await self._count_title_terms(_title_delta(updates))
            await self._count_paper_terms(_paper_terms_delta(updates))
            return
        pks = json.dumps([pk for pk, _, _ in updates])
        # A contentless FTS5 index forgets a row by being told the (folded) text it indexed.
        await self._db.execute(
            "INSERT INTO papers_fts (papers_fts, rowid, title, abstract, authors) "
            f"SELECT 'delete', pk, {TITLE_INDEX_TEXT}, {ABSTRACT_INDEX_TEXT}, {AUTHORS_INDEX_TEXT} "
            f"FROM papers WHERE pk IN ({self._db.dialect.ints()})",
            (pks,),
        )
        await self._db.execute(
            "INSERT INTO titles_fts (titles_fts, rowid, title) "
            f"SELECT 'delete', pk, {TITLE_INDEX_TEXT} FROM papers "
            f"WHERE pk IN ({self._db.dialect.ints()})",
            (pks,),
        )
        assignments = ", ".join(f"{name} = ?" for name in _FIELDS)
        await self._db.executemany(
            f"UPDATE papers SET {assignments} WHERE pk = ?",
            [(*row_values(after, stamp), pk) for pk, _, after in updates],
        )
        changed = f"WHERE pk IN ({self._db.dialect.ints()})"
        await self._db.execute(f"INSERT INTO papers_fts {_FTS_ROWS} {changed}", (pks,))
        await self._db.execute(f"INSERT INTO titles_fts {_TITLE_FTS_ROWS} {changed}", (pks,))
        await self._count_title_terms(_title_delta(updates))
        await self._count_paper_terms(_paper_terms_delta(updates))

    async def _count_paper_terms(self, delta: Counter[str]) -> None:
        """Apply per-word changes in the number of papers holding each word in title or abstract
        (``term_docs``). Sorted, so two processes ingesting at once on PostgreSQL take the rows'
        locks in one order and cannot deadlock. In a cold load, held until it ends."""
        if self._held_word_counts is not None:
            self._held_word_counts.update(delta)
            return
        grown = sorted((term, count) for term, count in delta.items() if count > 0)
        shrunk = sorted((term, -count) for term, count in delta.items() if count < 0)
        if self._pg is not None:
            # One statement over two arrays: a Bind and an Execute per word (a batch of 2,000 new
            # papers brings thousands) cost the server more than the upserts themselves.
            if grown:
                await self._db.execute(
                    "INSERT INTO term_docs (term, docs) SELECT * FROM unnest(?::text[], ?::int[]) "
                    "ON CONFLICT (term) DO UPDATE SET docs = term_docs.docs + excluded.docs",
                    _columns(grown),
                )
            if shrunk:
                await self._db.execute(
                    "UPDATE term_docs SET docs = term_docs.docs - gone.docs "
                    "FROM unnest(?::text[], ?::int[]) AS gone(term, docs) WHERE term_docs.term = gone.term",
                    _columns(shrunk),
                )
            return
        if grown:
            await self._db.executemany(
                "INSERT INTO term_docs (term, docs) VALUES (?, ?) "
                "ON CONFLICT (term) DO UPDATE SET docs = term_docs.docs + excluded.docs",
                grown,
            )
        if shrunk:
            await self._db.executemany(
                "UPDATE term_docs SET docs = docs - ? WHERE term = ?",
                [(count, term) for term, count in shrunk],
            )

    async def _count_title_terms(self, delta: Counter[str], *, keep_zero: bool = False) -> None:
        """Apply per-term changes in the number of titles holding each word, stamped with the
        papers generation this transaction is about to become (``PaperService.ingest`` bumps it
        whenever papers were added or updated, the only upserts that change titles): readers
        that loaded an older generation fetch just these rows (``title_terms_since``). In a cold
        load, held until it ends (``keep_zero``: its words netted to 0 are written too)."""
        if self._held_title_counts is not None:
            self._held_title_counts.update(delta)
            return
        grown = [(term, count) for term, count in delta.items() if count > 0 or (keep_zero and count == 0)]
        shrunk = [(-count, term) for term, count in delta.items() if count < 0]
        stamp = "(SELECT value + 1 FROM generations WHERE name = 'papers')"
        if self._pg is not None:
            # One statement over two arrays, as for term_docs; sorted, so two ingests at once lock
            # the words' rows in one order.
            if grown:
                await self._db.execute(
                    f"INSERT INTO title_terms (term, docs, generation) SELECT term, docs, {stamp} "
                    "FROM unnest(?::text[], ?::bigint[]) AS grown(term, docs) "
                    "ON CONFLICT (term) DO UPDATE SET docs = title_terms.docs + excluded.docs, "
                    "generation = excluded.generation",
                    _columns(sorted(grown)),
                )
            if shrunk:
                await self._db.execute(
                    f"UPDATE title_terms SET docs = title_terms.docs - gone.docs, generation = {stamp} "
                    "FROM unnest(?::text[], ?::bigint[]) AS gone(term, docs) "
                    "WHERE title_terms.term = gone.term",
                    _columns(sorted((term, count) for count, term in shrunk)),
                )
            return
        if grown:
            await self._db.executemany(
                f"INSERT INTO title_terms (term, docs, generation) VALUES (?, ?, {stamp}) "
                "ON CONFLICT (term) DO UPDATE SET docs = title_terms.docs + excluded.docs, "
                "generation = excluded.generation",
                grown,
            )
        if shrunk:
            # A word left at 0 keeps its row: readers that load changes must hear that it went.
            await self._db.executemany(
                f"UPDATE title_terms SET docs = docs - ?, generation = {stamp} WHERE term = ?", shrunk
            )

    async def _store_listings(
        self, listings: Sequence[tuple[ListedPaper, int]], fresh: frozenset[int]
    ) -> None:
        """Every listing of the batch (a paper listed on two days keeps both), by the stored paper's
        pk; ``fresh``: the pks this batch inserted."""
        rows = [
            (item.paper.source, item.list_date.isoformat(), pk, item.rank or 0)
            for item, pk in listings
            if item.list_date is not None
        ]
        if fresh and isinstance(self._db, BulkCopy):
            # A paper stored just now has no listing to update: its listings go in as one COPY
            # stream (a Bind and an Execute per row were a seventh of the server's time per
            # ingested paper), a list that named it twice keeping its later rank as the upsert does.
            new = {(source, day, pk): rank for source, day, pk, rank in rows if pk in fresh}
            if new:
                listed = [(*key, rank) for key, rank in new.items()]
                await self._db.copy_rows("listings", LISTING_COLUMNS, listed, binary=LISTING_KINDS)
            rows = [row for row in rows if row[2] not in fresh]
        if rows:
            await self._db.executemany(
                "INSERT INTO listings (source, list_date, paper_pk, rank) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (source, list_date, paper_pk) DO UPDATE SET rank = excluded.rank",
                rows,
            )

    # ---- reading -------------------------------------------------------------------------

    async def count(self) -> int:
        async with self._db.execute("SELECT count(*) FROM papers") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def get(self, paper_id: str) -> StoredPaper | None:
        rows = await self._db.fetch_all(
            f"{_SELECT} WHERE id = ? OR arxiv_id = ? LIMIT 1", (paper_id, paper_id)
        )
        return paper_from_row(rows[0]) if rows else None

    async def by_pks(self, pks: Iterable[int]) -> dict[int, StoredPaper]:
        wanted = json.dumps(list(pks))
        rows = await self._db.fetch_all(f"{_SELECT} WHERE pk IN ({self._db.dialect.ints()})", (wanted,))
        return {row["pk"]: paper_from_row(row) for row in rows}

    async def titles(self, pks: Iterable[int]) -> dict[int, tuple[str, str]]:
        """pk -> (id, title) for candidate re-ranking."""
        wanted = json.dumps(list(pks))
        sql = f"SELECT pk, id, title FROM papers WHERE pk IN ({self._db.dialect.ints()})"
        return {row[0]: (row[1], row[2]) for row in await self._db.fetch_all(sql, (wanted,))}

    def _recent_where(self) -> str:
        """Papers first listed within ``days`` (the one parameter) of the latest list, newest first,
        at most RECENT_LIMIT: what "recent" means in this store."""
        since = self._db.dialect.days_before("SELECT max(list_date) FROM listings")
        return f"WHERE first_listed >= {since} ORDER BY pk DESC LIMIT {RECENT_LIMIT}"

    async def recent(self, days: int) -> list[StoredPaper]:
        """The recent papers (see ``_recent_where``)."""
        async with self._db.execute(f"{_SELECT} {self._recent_where()}", (int(days),)) as cursor:
            return [paper_from_row(row) for row in await cursor.fetchall()]

    async def recent_versions(self, days: int) -> list[tuple[int, str]]:
        """(pk, content hash) of the recent papers: which of them a cache of their text still holds."""
        sql = f"SELECT pk, content_hash FROM papers {self._recent_where()}"
        return [(int(row[0]), str(row[1])) for row in await self._db.fetch_all(sql, (int(days),))]

    async def matched_texts(self, pks: Sequence[int]) -> dict[int, tuple[str, str, tuple[str, ...]]]:
        """pk -> (title, abstract, AI keywords) of these papers: the text follows are matched against."""
        if not pks:
            return {}
        sql = f"SELECT pk, title, abstract, ai_keywords FROM papers WHERE pk IN ({self._db.dialect.ints()})"
        rows = await self._db.fetch_all(sql, (json.dumps(list(pks)),))
        return {int(row[0]): (row[1], row[2], tuple(json.loads(row[3]))) for row in rows}

    async def newest_list_date(self) -> date | None:
        """The latest list date of any source: the recent window moves with it."""
        async with self._db.execute("SELECT max(list_date) FROM listings") as cursor:
            row = await cursor.fetchone()
        return _date(row[0]) if row else None

    async def newest_titles(self, limit: int, sources: Sequence[str]) -> list[tuple[str, str]]:
        """(id, title) of the latest daily list in rank order, topped up with the newest papers."""
        sql = (
            f"WITH chosen(source) AS ({self._db.dialect.texts()}) "
            "SELECT p.id, p.title FROM listings l JOIN papers p ON p.pk = l.paper_pk "
            "WHERE l.source IN (SELECT source FROM chosen) "
            "AND l.list_date = (SELECT max(list_date) FROM listings "
            "WHERE source IN (SELECT source FROM chosen)) "
            "GROUP BY p.pk ORDER BY min(l.rank) LIMIT ?"
        )
        async with self._db.execute(sql, (json.dumps(list(sources)), limit)) as cursor:
            found = [(row[0], row[1]) for row in await cursor.fetchall()]
        if len(found) < limit:
            async with self._db.execute(
                "SELECT id, title FROM papers ORDER BY pk DESC LIMIT ?", (limit,)
            ) as cursor:
                seen = {paper_id for paper_id, _ in found}
                found += [(row[0], row[1]) for row in await cursor.fetchall() if row[0] not in seen]
        return found[:limit]

    async def random(self, fts_query: str | None = None) -> StoredPaper | None:
        if fts_query is None:
            # Random rowid probe: O(log n), unlike ORDER BY random() over the whole table.
            sql = (
                f"{_SELECT} WHERE pk >= (SELECT {self._db.dialect.random_pk_at_most('max(pk)')} FROM papers) "
                "ORDER BY pk LIMIT 1"
            )
            params: tuple[object, ...] = ()
        elif self._pg is not None:
            pk = await self._pg.random_pk(fts_query)
            return None if pk is None else (await self.by_pks([pk])).get(pk)
        else:
            sql = (
                f"{_SELECT} WHERE pk = (SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? "
                "ORDER BY random() LIMIT 1)"
            )
            params = (fts_query,)
        async with self._db.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return paper_from_row(row) if row else None

    async def match(
        self,
        fts_query: str,
        *,
        weights: Weights,
        limit: int,
        min_pk: int = 0,
        scored: str | None = None,
        matches: Sequence[int] | None = None,
    ) -> list[TextHit]:
        """Best BM25 matches of an already-safe FTS5 query, restricted to ``pk >= min_pk``.

        ``scored``: rank the matches by the BM25 of this query instead, one every match also
        satisfies (the same query without words ``half_held`` found; see there). FTS5 scores the
        phrases of the MATCH it runs, so the full query only filters: a walk of its matches within
        the window, not of the common words' whole doclists, or none when ``matches`` (the query's
        matches from ``min_pk`` up, as ``window`` may give them) are known (SQLite only)."""
        if self._pg is not None:
            found = await self._pg.match(fts_query, weights=weights, limit=limit, min_pk=min_pk)
            return [TextHit(pk, score) for pk, score in found]
        sql = (
            "SELECT rowid, bm25(papers_fts, ?, ?, ?) AS score "
            "FROM papers_fts WHERE papers_fts MATCH ? AND rowid >= ?"
        )
        params: list[object] = [*weights, fts_query if scored is None else scored, min_pk]
        # ``+rowid``: a filter on the scored query's rows. A bare ``rowid IN (...)`` makes SQLite look
        # every listed rowid up in the index one by one instead (30 s for 2,858 rows at a million).
        if scored is not None and matches is not None:
            sql += f" AND +rowid IN ({self._db.dialect.ints()})"
            params.append(json.dumps(list(matches)))
        elif scored is not None:
            sql += " AND +rowid IN (SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? AND rowid >= ?)"
            params += [fts_query, min_pk]
        rows = await self._db.fetch_all(sql + " ORDER BY score LIMIT ?", (*params, limit))
        return [TextHit(row[0], -float(row[1])) for row in rows]

    async def half_held(self, terms: Sequence[str]) -> set[str]:
        """Terms at least half the papers hold (some may be missed, never one held by fewer).

        FTS5's bm25() gives a phrase that half the rows or more hold an IDF of 1e-6 (it tells
        nothing), so such a word adds less than 2.2e-6 (1e-6 times k1 + 1) to any score; yet bm25()
        walks the word's whole doclist to learn its count on every ranked query (35 of a query's
        108 CPU ms for "to" at a million papers). The index holds one row per paper, so its row
        count is at most the largest pk; ``term_docs`` counts the papers holding a word in their
        title or abstract (the index also holds authors, so its count of the word is never lower):
        a word counted there to half the largest pk is held by at least half the index's rows.
        One B-tree seek a word: counting it in the index walked its doclist (25 ms for "to" at a
        million papers, paid again after every ingest). On PostgreSQL, whose ranking has no IDF,
        none."""
        if self._pg is not None or not terms:
            return set()
        sql = (
            f"SELECT term FROM term_docs WHERE term IN ({self._db.dialect.texts()}) "
            "AND 2 * docs >= (SELECT max(pk) FROM papers)"
        )
        rows = await self._db.fetch_all(sql, (json.dumps(list(terms), ensure_ascii=False),))
        return {str(row[0]) for row in rows}

    async def count_matches(self, fts_query: str, *, cap: int) -> int:
        """How many papers match, counting no further than ``cap`` (an unscored doclist walk)."""
        if self._pg is not None:
            return await self._pg.count(fts_query, cap=cap)
        sql = "SELECT count(*) FROM (SELECT 1 FROM papers_fts WHERE papers_fts MATCH ? LIMIT ?)"
        rows = await self._db.fetch_all(sql, (fts_query, cap))
        return int(rows[0][0]) if rows else 0

    async def match_titles(self, fts_query: str, *, limit: int, min_pk: int | None = None) -> list[int]:
        """pks of title-only matches (the autocomplete index): BM25-best from ``min_pk`` up when given,
        else simply the newest, which costs no scoring at all."""
        if self._pg is not None:
            return await self._pg.match_titles(fts_query, limit=limit, min_pk=min_pk)
        if min_pk is None:
            sql = "SELECT rowid FROM titles_fts WHERE titles_fts MATCH ? ORDER BY rowid DESC LIMIT ?"
            params: tuple[object, ...] = (fts_query, limit)
        else:
            sql = "SELECT rowid FROM titles_fts WHERE titles_fts MATCH ? AND rowid >= ? ORDER BY rank LIMIT ?"
            params = (fts_query, min_pk, limit)
        return [row[0] for row in await self._db.fetch_all(sql, params)]

    async def window_floor(self, fts_query: str, cap: int, *, titles_only: bool = False) -> int:
        """The rowid of the ``cap``-th newest match, or 0 when fewer match.

        FTS5 walks doclists in rowid order without scoring, so this costs about ``cap`` steps however
        common the words are; ranking then scores only rowids from there up.
        """
        if self._pg is not None:
            return await self._pg.window_floor(fts_query, cap, titles_only=titles_only)
        table = "titles_fts" if titles_only else "papers_fts"
        sql = f"SELECT rowid FROM {table} WHERE {table} MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?"
        rows = await self._db.fetch_all(sql, (fts_query, cap))
        return int(rows[0][0]) if rows else 0

    async def window(self, fts_query: str, cap: int, *, count_cap: int) -> MatchWindow:
        """``window_floor`` and ``count_matches`` with as few unscored walks of the matches as can be.

        Walking an AND of common words costs microseconds per match, and a walk from the newest end
        costs about half as much again per match as one from the oldest. When the newest ``cap + 1``
        matches hold the whole count, one walk down from the newest gives both. Otherwise the count
        comes first, from the oldest, and the floor from the nearer end: none at all when every match
        fits the window (the slowest queries at a million papers, a few thousand matches spread over
        the whole store, then walk their matches once instead of from both ends). PostgreSQL's
        walks are priced differently: ``PgTextSearch.window``."""
        if self._pg is not None:
            floor, total = await self._pg.window(fts_query, cap, count_cap=count_cap)
            return MatchWindow(floor, total)
        if cap + 1 >= count_cap:
            sql = (
                "SELECT count(*), min(rowid) FROM (SELECT rowid FROM papers_fts "
                "WHERE papers_fts MATCH ? ORDER BY rowid DESC LIMIT ?)"
            )
            rows = await self._db.fetch_all(sql, (fts_query, cap + 1))
            counted, floor = int(rows[0][0]), int(rows[0][1] or 0)
            if counted <= cap or counted >= count_cap:
                return MatchWindow(floor if counted > cap else 0, min(counted, count_cap))
            return MatchWindow(floor, await self.count_matches(fts_query, cap=count_cap))
        # The count's walk keeps the rowids it passes (a few thousand integers cost less to hand over
        # than a second walk to the floor costs: an AND of words most papers hold pays microseconds
        # a match seeking through their long doclists).
        sql = "SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? ORDER BY rowid LIMIT ?"
        oldest = [int(row[0]) for row in await self._db.fetch_all(sql, (fts_query, count_cap))]
        total = len(oldest)
        if total >= count_cap:  # more match than were counted: the floor is walked to from the newest
            return MatchWindow(await self.window_floor(fts_query, cap), total)
        if total <= cap:
            return MatchWindow(0, total, tuple(oldest))
        return MatchWindow(oldest[total - cap - 1], total, tuple(oldest[total - cap - 1 :]))

    async def best_of_window(
        self,
        fts_query: str,
        cap: int,
        *,
        count_cap: int,
        limit: int,
        weights: Weights,
        phrase: str | None = None,
        scored: str | None = None,
    ) -> BestOfWindow:
        """The query's ``window`` and, within it, the best ``limit`` matches of ``phrase`` (a
        query whose matches are among the query's) and the best ``limit`` more of the query
        itself, so that a page can be filled with the phrase's matches first (``scored``: as in
        ``match``). Nothing is ranked when nothing matches.

        PostgreSQL ranks the window's rows as it finds them, in one statement (migration 0037):
        ranking them in a statement of its own read each of them a second time, half of what a
        common word cost. SQLite's walks are unscored and its ranking scores inside the index
        scan, so there the window and each ranking remain statements of their own (the two
        rankings at once)."""
        if self._pg is not None:
            found = await self._pg.ranked_window(
                fts_query, cap, count_cap=count_cap, weights=weights, phrase=phrase, best=limit
            )
            return BestOfWindow(
                MatchWindow(found.floor, found.total),
                [TextHit(pk, score) for pk, score in found.phrased],
                [TextHit(pk, score) for pk, score in found.ranked],
            )
        window = await self.window(fts_query, cap, count_cap=count_cap)
        if not window.total:
            return BestOfWindow(window, [], [])

        def best_of_query(wanted: int) -> Awaitable[list[TextHit]]:
            return self.match(
                fts_query,
                weights=weights,
                limit=wanted,
                min_pk=window.floor,
                scored=scored,
                matches=window.pks,
            )

        if phrase is None:
            return BestOfWindow(window, [], await best_of_query(limit))
        # The phrase's and the query's best start at once, on two read connections (search.readers):
        # with a core free, the slowest searches at a million papers (five to seven words, a few
        # thousand matches) no longer wait for the shorter of the two, 7-22 ms. When the phrase alone
        # fills the page the other is given up and its read stops where it is (bot.storage.stoppable),
        # so it costs at most the CPU the phrase query took. The phrase's hits take at most
        # ``limit - 1`` places when the rest is wanted: that many more ranked rows make up the page.
        rest = asyncio.ensure_future(best_of_query(2 * limit - 1))
        try:
            phrased = await self.match(phrase, weights=weights, limit=limit, min_pk=window.floor)
            return BestOfWindow(window, phrased, [] if len(phrased) >= limit else await rest)
        finally:
            # Given up when still running; when done, its error (if any) is taken so that a rest
            # nobody wanted raises nothing later.
            if not rest.cancel() and not rest.cancelled():
                rest.exception()

    async def unknown_terms(self, terms: Sequence[str]) -> set[str]:
        """The (folded) terms that occur nowhere in the index."""
        missing = set()
        if self._pg is not None:
            return {term for term in set(terms) if not await self._pg.holds(term)}
        for term in set(terms):
            sql = "SELECT 1 FROM papers_fts WHERE papers_fts MATCH ? LIMIT 1"
            if not await self._db.fetch_all(sql, ('"' + term.replace('"', '""') + '"',)):
                missing.add(term)
        return missing

    async def title_terms(self) -> dict[str, int]:
        """Every word of any title -> the number of titles holding it."""
        async with self._db.execute("SELECT term, docs FROM title_terms WHERE docs > 0") as cursor:
            return {row[0]: int(row[1]) for row in await cursor.fetchall()}

    async def title_terms_since(self, loaded: int, current: int) -> dict[str, int]:
        """The words whose count changed after papers generation ``loaded`` up to ``current``, with
        their counts now (0: no title holds the word any more)."""
        sql = "SELECT term, docs FROM title_terms WHERE generation > ? AND generation <= ?"
        async with self._db.execute(sql, (loaded, current)) as cursor:
            return {row[0]: int(row[1]) for row in await cursor.fetchall()}

    async def latest_list_date(
        self, sources: Sequence[str], *, on_or_before: date | None = None
    ) -> date | None:
        """The newest list date of these sources (not after ``on_or_before``)."""
        sql = (
            f"SELECT max(list_date) FROM listings WHERE source IN ({self._db.dialect.texts()}) "
            "AND (CAST(? AS TEXT) IS NULL OR list_date <= ?)"
        )
        bound = on_or_before.isoformat() if on_or_before else None
        async with self._db.execute(sql, (json.dumps(list(sources)), bound, bound)) as cursor:
            row = await cursor.fetchone()
        return _date(row[0]) if row else None

    async def list_date_before(self, day: date, sources: Sequence[str]) -> date | None:
        sql = (
            "SELECT max(list_date) FROM listings "
            f"WHERE source IN ({self._db.dialect.texts()}) AND list_date < ?"
        )
        async with self._db.execute(sql, (json.dumps(list(sources)), day.isoformat())) as cursor:
            row = await cursor.fetchone()
        return _date(row[0]) if row else None

    async def listing(self, day: date, sources: Sequence[str]) -> list[StoredPaper]:
        """The list of ``day`` from these sources, in rank order (one row per paper)."""
        sql = (
            f"SELECT p.pk, {', '.join('p.' + name for name in _FIELDS)}, p.created_at "
            "FROM listings l JOIN papers p ON p.pk = l.paper_pk "
            f"WHERE l.list_date = ? AND l.source IN ({self._db.dialect.texts()}) "
            "GROUP BY p.pk ORDER BY min(l.rank), p.pk"
        )
        async with self._db.execute(sql, (day.isoformat(), json.dumps(list(sources)))) as cursor:
            return [paper_from_row(row) for row in await cursor.fetchall()]

    async def source_counts(self) -> dict[str, int]:
        async with self._db.execute("SELECT source, count(*) FROM papers GROUP BY source") as cursor:
            return {row[0]: int(row[1]) for row in await cursor.fetchall()}

    async def listing_span(self) -> tuple[int, date | None, date | None]:
        sql = "SELECT count(DISTINCT list_date), min(list_date), max(list_date) FROM listings"
        async with self._db.execute(sql) as cursor:
            row = await cursor.fetchone()
        if not row:
            return 0, None, None
        return int(row[0]), _date(row[1]), _date(row[2])


@dataclass(slots=True)
class _ReservedPks:
    """The pks a cold load reserved (``next`` to ``last``), handed out batch by batch."""

    next: int
    last: int

    def take(self, count: int) -> list[int] | None:
        """``count`` pks in turn, or None when fewer are left."""
        if self.next + count - 1 > self.last:
            return None
        taken = list(range(self.next, self.next + count))
        self.next += count
        return taken


def _columns(pairs: Sequence[tuple[str, int]]) -> tuple[list[str], list[int]]:
    """(term, count) pairs as the two arrays PostgreSQL's ``unnest`` takes."""
    return [term for term, _ in pairs], [count for _, count in pairs]


def _title_delta(updates: Sequence[tuple[int, Paper, Paper]]) -> Counter[str]:
    delta: Counter[str] = Counter()
    for _, before, after in updates:
        if before.title != after.title:
            delta.update(title_terms(after))
            delta.subtract(title_terms(before))
    return delta


def _count_words_aside(texts: list[tuple[str, str]]) -> asyncio.Future[list[tuple[str, int]]]:
    """Start counting the words of the papers' ``(title, abstract)`` index texts on a thread of
    its own (``batch_word_counts``), to be awaited once the writer has stored them."""
    return asyncio.ensure_future(asyncio.to_thread(batch_word_counts, texts))


def _paper_terms(paper: Paper, title_words: frozenset[str]) -> set[str]:
    """The distinct words of the paper's title (``title_terms``, split already) and abstract."""
    terms = word_set(paper.abstract)
    terms |= title_words  # in place: a title has a few words, an abstract a hundred
    return terms


def _paper_terms_delta(updates: Sequence[tuple[int, Paper, Paper]]) -> Counter[str]:
    """What edits of title or abstract change in the word counts (the words lost and gained)."""
    delta: Counter[str] = Counter()
    for _, before, after in updates:
        if before.title != after.title or before.abstract != after.abstract:
            delta.update(_paper_terms(after, title_terms(after)))
            delta.subtract(_paper_terms(before, title_terms(before)))
    return delta
