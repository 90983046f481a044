"""PostgreSQL's ingest (one COPY stream a batch, the new rows' pks taken from the table's sequence,
the search document built in Python while the server stores the rows before) stores exactly what
SQLite's ingest stores from the same papers: the same papers with the same columns, listings,
momentum snapshots, author credits and title vocabulary, with duplicates inside one batch, across
batches and across transactions, and the same file ingested twice. Every search column is what
the server's own ``paperbot_document`` builds from the stored columns (a rebuild). A failure part
of the way through a batch, in the server or in making a row, writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import bot.storage.paper_rows as rows_module
from bench.corpus import generate
from bot.domain.models import ListedPaper, Paper, Signals
from bot.domain.people import AuthorCredit, Credits
from bot.domain.text import word_set
from bot.parsing.hf_api import parse_hf_api
from bot.services.papers import BATCH_SIZE, PaperService
from bot.storage import pg_bulk
from bot.storage.connection import Store
from bot.storage.database import Database
from bot.storage.loaded_papers import LoadedPapers
from bot.storage.papers import paper_columns, paper_from_row
from bot.storage.pg_search import folded_columns
from bot.storage.postgres import PostgresDatabase
from tests.conftest import FIXED_NOW
from tests.hf_api import recorded_day
from tests.storage.test_ingest_equivalence import unicode_papers

if TYPE_CHECKING:
    from bot.storage.pg_document import Tally

DAY = date(2026, 2, 3)
NEXT = date(2026, 2, 4)
Snapshot = dict[str, Any]


def crafted() -> list[ListedPaper]:
    """Duplicates inside one batch: an arXiv paper listed on two days and re-ranked, a title-only
    page capture of it (the title-dedup merge), a title-only paper twice with more votes the second
    time, the same arXiv paper in two versions, and one paper twice on one day's list."""
    base = Paper(
        "Scaling Laws for Sparse Mixtures", "We study sparse experts.", "hf-api", arxiv_id="2602.70001",
        authors=("Ada Lovelace", "Zoë Müller"), upvotes=3,
    )  # fmt: skip
    page = Paper("Scaling laws for sparse mixtures!", "A page capture, no arXiv id.", "hf-page", upvotes=9)
    lone = Paper("A paper only pages know", "First capture.", "hf-page", upvotes=1)
    revised = Paper("Revised Attention", "v1 text.", "hf-api", arxiv_id="2602.70002", arxiv_version=1)
    credits = Credits((AuthorCredit("Ada Lovelace", "ada"), AuthorCredit("Zoë Müller")), "org", "Org")
    return [
        ListedPaper(base, DAY, 1, Signals(3, 1, None), credits),
        ListedPaper(page, DAY, 2),
        ListedPaper(lone, DAY, 3, Signals(1)),
        ListedPaper(revised, DAY, 4),
        ListedPaper(revised, DAY, 8),  # the same list twice: the later rank is kept
        ListedPaper(replace(base, upvotes=5), NEXT, 1, Signals(5, 2, None), credits),
        ListedPaper(replace(lone, upvotes=4, abstract="Second capture, longer."), NEXT, 2, Signals(4)),
        ListedPaper(replace(revised, arxiv_version=2, abstract="v2 text."), NEXT, 3),
    ]


def many(count: int, *, first: int = 0, day: date = DAY) -> list[ListedPaper]:
    """More papers than one upsert batch, listed from ``day`` on, the last hundred listed again a
    day later (duplicates across the upsert batches of one transaction)."""
    listed = list(generate(count, first=first, start=day, per_day=500))
    again = [replace(item, list_date=item.list_date + timedelta(days=1), rank=1) for item in listed[-100:]]
    return listed + again


async def snapshot(store: Store) -> Snapshot:
    """Everything an ingest writes, keyed by paper id (pks differ after a failed batch on
    PostgreSQL: a sequence does not give back the values a rolled-back transaction took)."""
    db = store.connection
    id_of = {row[0]: row[1] for row in await db.fetch_all("SELECT pk, id FROM papers")}
    papers = {
        row[0]: tuple(row)
        for row in await db.fetch_all(f"SELECT {paper_columns('p')}, p.created_at FROM papers p")
    }
    listings = sorted(
        (r[0], r[1], id_of[r[2]], r[3])
        for r in await db.fetch_all("SELECT source, list_date, paper_pk, rank FROM listings")
    )
    signals = sorted(
        (id_of[r[0]], *r[1:])
        for r in await db.fetch_all("SELECT paper_pk, taken_at, upvotes, comments, stars FROM paper_signals")
    )
    people = sorted(
        (id_of[r[0]], *r[1:])
        for r in await db.fetch_all(
            "SELECT paper_pk, kind, position, name, folded, family, hf_id FROM paper_people"
        )
    )
    # Every name counted, at 0 too (a name whose slots all went keeps its row).
    names = sorted(
        tuple(r)
        for r in await db.fetch_all("SELECT kind, name, claim, folded, family, slots FROM people_names")
    )
    terms = sorted(tuple(r) for r in await db.fetch_all("SELECT term, docs, generation FROM title_terms"))
    # Words by how many papers hold them (0 only where SQLite and PostgreSQL both kept the row).
    words = sorted(tuple(r) for r in await db.fetch_all("SELECT term, docs FROM term_docs WHERE docs <> 0"))
    return {
        "papers": papers,
        "listings": listings,
        "signals": signals,
        "people": people,
        "names": names,
        "terms": terms,
        "words": words,
    }


async def assert_search_columns_rebuild(store: PostgresDatabase) -> None:
    """Every row's search column equals the server's ``paperbot_document`` of its stored columns."""
    rows = await store.connection.fetch_all(f"SELECT p.pk, {paper_columns('p')}, p.created_at FROM papers p")
    stored = [paper_from_row(row) for row in rows]
    columns = [folded_columns(entry.paper) for entry in stored]
    differing = await store.connection.fetch_all(
        "SELECT p.id FROM papers p JOIN unnest(?::bigint[], ?::text[], ?::text[], ?::text[]) "
        "AS f(pk, title, abstract, authors) ON f.pk = p.pk "
        "WHERE p.search IS DISTINCT FROM paperbot_document(f.title, f.abstract, f.authors)",
        (
            [entry.pk for entry in stored],
            [c[0] for c in columns],
            [c[1] for c in columns],
            [c[2] for c in columns],
        ),
    )
    assert [row[0] for row in differing] == []
    assert len(stored) == len(rows) > 0
    # Autocomplete's title table holds each paper's title words (the search column's weight A), no more.
    titles = await store.connection.fetch_all(
        "SELECT p.id FROM papers p FULL JOIN title_search t ON t.pk = p.pk "
        "WHERE t.words IS DISTINCT FROM ts_filter(p.search, '{a}')"
    )
    assert [row[0] for row in titles] == []


@pytest.fixture
async def stores(tmp_path: Path, postgres_url: str) -> AsyncIterator[tuple[PaperService, PaperService]]:
    """The same papers go to a SQLite store (the reference) and a PostgreSQL one."""
    sqlite = await Database.open(tmp_path / "reference.db")
    postgres = await PostgresDatabase.open(postgres_url)
    services = PaperService(sqlite, clock=lambda: FIXED_NOW), PaperService(postgres, clock=lambda: FIXED_NOW)
    for service in services:
        await service.start()
    yield services
    await sqlite.close()
    await postgres.close()


async def test_postgres_ingest_stores_what_sqlite_ingest_stores(
    stores: tuple[PaperService, PaperService],
) -> None:
    recorded = parse_hf_api(json.dumps(recorded_day()).encode(), list_date=DAY)
    first = recorded + unicode_papers() + crafted()
    bulk = many(BATCH_SIZE + 500)  # two upsert batches in one transaction
    # Across batches: the crafted papers again a day on, one of them retitled; the bulk's first
    # hundred listed again; new ones.
    later = [replace(item, list_date=NEXT + timedelta(days=1)) for item in crafted()]
    later[0] = replace(later[0], paper=replace(later[0].paper, title="Scaling Laws for Sparse Mixtures (v2)"))
    second = later + [replace(item, rank=7) for item in bulk[:100]] + many(300, first=10_000, day=NEXT)

    for service in stores:
        await service.ingest(first)
        await service.ingest(bulk)
    reference, postgres = stores
    assert isinstance(postgres.database, PostgresDatabase)
    assert await snapshot(postgres.database) == await snapshot(reference.database)

    # The same file again changes nothing on either backend.
    before = await snapshot(postgres.database)
    for service in stores:
        counts = await service.ingest(bulk)
        assert (counts.new, counts.updated, counts.unchanged) == (0, 0, BATCH_SIZE + 500)
    assert await snapshot(postgres.database) == before == await snapshot(reference.database)

    for service in stores:
        await service.ingest_in_batches(second, batch_papers=150)  # several transactions
    assert await snapshot(postgres.database) == await snapshot(reference.database)
    await assert_search_columns_rebuild(postgres.database)


async def test_a_batch_failing_part_way_writes_nothing_on_postgres(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await PostgresDatabase.open(postgres_url)
    service = PaperService(store, clock=lambda: FIXED_NOW)
    await service.start()
    try:
        await service.ingest(crafted())
        before = await snapshot(store)
        batch = many(BATCH_SIZE + 500, first=20_000)

        # The server refuses a row late in the second upsert batch (a NUL is no text it can store):
        # the first batch's rows and the stream's earlier rows are not kept.
        poisoned = list(batch)
        late = BATCH_SIZE + 300
        poisoned[late] = replace(batch[late], paper=replace(batch[late].paper, abstract="bad \x00 byte"))
        with pytest.raises(Exception, match=r"0x00|null"):
            await service.ingest(poisoned)
        assert await snapshot(store) == before

        # Making a row of the second batch fails (after the first batch was written).
        made = 0
        real_vectors = rows_module.paper_vectors

        def failing_vectors(papers: Sequence[Paper], tally: Tally | None = None) -> Iterator[bytes | None]:
            nonlocal made
            for vector in real_vectors(papers, tally):
                made += 1
                if made == late:
                    raise RuntimeError("the process failed while making row 2,300")
                yield vector

        monkeypatch.setattr(rows_module, "paper_vectors", failing_vectors)
        with pytest.raises(RuntimeError, match="row 2,300"):
            await service.ingest(batch)
        monkeypatch.undo()
        assert await snapshot(store) == before

        # The store is still usable, and the same batch then stores whole.
        counts = await service.ingest(batch)
        assert counts.new == BATCH_SIZE + 500
        assert len((await snapshot(store))["papers"]) == len(before["papers"]) + BATCH_SIZE + 500
        await assert_search_columns_rebuild(store)
    finally:
        await store.close()


async def search_indexes(store: PostgresDatabase) -> list[tuple[str, str, bool]]:
    """(name, definition, usable) of every index (GIN and b-tree), with its identity left out."""
    rows = await store.connection.fetch_all(
        "SELECT i.indexname, i.indexdef, x.indisvalid AND x.indisready FROM pg_indexes i "
        "JOIN pg_class c ON c.relname = i.indexname JOIN pg_index x ON x.indexrelid = c.oid "
        "WHERE i.schemaname = current_schema() ORDER BY 1"
    )
    return [tuple(row) for row in rows]


async def unique_constraints(store: PostgresDatabase) -> list[tuple[str, str, str]]:
    """(table, name, definition) of every unique and primary-key constraint."""
    rows = await store.connection.fetch_all(
        "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "JOIN pg_class t ON t.oid = c.conrelid WHERE t.relnamespace = current_schema()::regnamespace "
        "AND c.contype IN ('u', 'p') ORDER BY 1, 2"
    )
    return [tuple(row) for row in rows]


def across_batches() -> tuple[list[ListedPaper], list[ListedPaper], list[ListedPaper]]:
    """``crafted``'s papers spread over three upsert batches, so that each merge is with a row an
    earlier batch of the same transaction wrote: a page capture stored first, then its arXiv paper
    (which takes the capture's row and its arXiv id), then the capture again (found by the title
    through the arXiv id the row has now); a paper and a new version of it; a title-only paper
    twice."""
    base, page, lone, revised, _, base_again, lone_again, revised_again = crafted()
    page_again = replace(page, paper=replace(page.paper, upvotes=20), list_date=NEXT + timedelta(days=1))
    return [page, lone, revised], [base, lone_again, revised_again, base_again], [page_again]


async def index_oids(store: PostgresDatabase, names: list[str]) -> list[int]:
    named = f"c.relname IN ({store.dialect.texts()})"
    sql = f"SELECT c.oid::bigint FROM pg_class c WHERE {named} ORDER BY c.relname"
    return [int(row[0]) for row in await store.connection.fetch_all(sql, (json.dumps(names),))]


async def test_a_cold_load_builds_the_search_index_at_the_end_and_stores_the_same(
    stores: tuple[PaperService, PaperService], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg_bulk, "COLD_LOAD_PAPERS", 1000)  # the real threshold is 10,000 papers
    reference, postgres = stores
    assert isinstance(postgres.database, PostgresDatabase)
    indexes = await search_indexes(postgres.database)
    assert indexes and all(usable for _, _, usable in indexes)
    # A paper of the first upsert batch comes again in the last, retitled and with a new
    # abstract: the word counts the load holds until its end lose its old words and gain the new.
    # The crafted duplicates merge with rows earlier batches of the load wrote.
    first = many(2 * BATCH_SIZE + 500)
    retitled = replace(
        first[7],
        paper=replace(first[7].paper, title="Retitled: quokka lattices", abstract="Quokka lattices only."),
        list_date=first[-1].list_date,
    )
    # A title word no other paper has, gone again when its paper is retitled: its count is 0 at
    # the end, and its row stays (readers of the vocabulary must hear that it went).
    wombat = ListedPaper(Paper("Wombat burrows", "Digging.", "hf-api", arxiv_id="2602.70003"), DAY, 9)
    unwombat = replace(wombat, paper=replace(wombat.paper, title="Burrows, dug"), list_date=NEXT)
    early, middle, late = across_batches()
    early.append(wombat)
    batch = [*early, *first[: BATCH_SIZE - len(early)], *middle, *first[BATCH_SIZE - len(early) :]]
    batch += [retitled, *late, unwombat]
    assert [item in batch[BATCH_SIZE : 2 * BATCH_SIZE] for item in middle] == [True] * len(middle)

    # A cold load that fails part of the way leaves the empty store and its indexes as they were.
    poisoned = list(batch)
    poisoned[-5] = replace(batch[-5], paper=replace(batch[-5].paper, abstract="bad \x00 byte"))
    with pytest.raises(Exception, match=r"0x00|null"):
        await postgres.ingest(poisoned)
    assert await search_indexes(postgres.database) == indexes
    assert await postgres.repository.count() == 0

    # Built at the end: the full-text indexes, the look-up indexes and the papers' unique
    # constraints (the load places its batches against its own rows, not through them), the
    # primary keys of the listings and author rows (written only at the end, one COPY each); the
    # papers' primary key (the load's updates go by it) is kept as it is.
    rebuilt = [
        "listings_by_date", "listings_by_paper", "listings_pkey", "paper_people_pkey",
        "paper_signals_pkey", "papers_arxiv_id_key", "papers_by_created", "papers_by_title_key",
        "papers_id_key", "papers_search", "title_search_words",
    ]  # fmt: skip
    kept = ["papers_pkey"]
    oids = await index_oids(postgres.database, rebuilt + kept)
    constraints = await unique_constraints(postgres.database)
    for service in stores:
        await service.ingest(batch)
    assert await search_indexes(postgres.database) == indexes
    assert await unique_constraints(postgres.database) == constraints
    after = await index_oids(postgres.database, rebuilt + kept)
    changed = sorted(
        name for name, old, new in zip(sorted(rebuilt + kept), oids, after, strict=True) if old != new
    )
    assert changed == rebuilt
    stored = await snapshot(postgres.database)
    assert stored == await snapshot(reference.database)
    assert ("quokka", 1) in stored["words"] and ("quokka", 1, 1) in stored["terms"]
    assert ("wombat", 0, 1) in stored["terms"]
    # The page capture, its arXiv paper and the capture again are one row, with the arXiv id.
    base = crafted()[0].paper
    rows = await postgres.database.connection.fetch_all(
        "SELECT id, upvotes FROM papers WHERE title_key = ?", (base.title_key,)
    )
    assert [tuple(row) for row in rows] == [(base.arxiv_id, 20)]
    await assert_search_columns_rebuild(postgres.database)
    # The rebuilt index answers searches as SQLite's does (the bulk's papers by their words).
    paper = batch[1234].paper
    for service in stores:
        found = await service.search.find(paper.title, limit=5)
        assert paper.id in {hit.paper.id for hit in found.hits}

    # Into a store that holds papers, a load keeps the index it has (the same index, not a new one).
    oid = "SELECT c.oid::bigint FROM pg_class c WHERE c.relname = 'papers_search'"
    before = await postgres.database.connection.fetch_all(oid)
    await postgres.ingest(many(1500, first=50_000))
    assert await postgres.database.connection.fetch_all(oid) == before
    # The title table's triggers, off during the cold load, fill it again for later papers.
    await assert_search_columns_rebuild(postgres.database)
    suggested = await postgres.search.suggest(many(1500, first=50_000)[-1].paper.title)
    assert suggested and suggested[0].title == many(1500, first=50_000)[-1].paper.title


def relisted_across_batches() -> list[list[ListedPaper]]:
    """Papers whose listings, snapshots and credits change from one upsert batch of a load to the
    next: credited with three authors and an organisation, then with two others (the first three
    names' slots counted down to 0) and listed again on the same day at a new rank; listed by name
    only, then credited (the names' rows replaced); credited, then listed by name only (the credits
    kept); by name only twice (no second set of rows); and new votes for one snapshot."""

    def paper(n: int, *authors: str) -> Paper:
        return Paper(
            f"Relisted paper number {n}",
            f"Abstract {n}.",
            "hf-api",
            arxiv_id=f"2602.7100{n}",
            authors=authors,
        )

    def credits(*names: str, org: str | None = None) -> Credits:
        return Credits(tuple(AuthorCredit(name, name.lower()[:3]) for name in names), org, org)

    recredited = paper(1, "Ann Aa", "Bob Bb", "Cy Cc")
    named_first, credited_first, named_twice = (
        paper(2, "Dee Dd", "Eve Ee"),
        paper(3, "Fay Ff"),
        paper(4, "Gus Gg"),
    )
    first = [
        ListedPaper(recredited, DAY, 1, Signals(1, 0, 2), credits("Ann Aa", "Bob Bb", "Cy Cc", org="Lab")),
        ListedPaper(named_first, DAY, 2),
        ListedPaper(credited_first, DAY, 3, None, credits("Fay Ff")),
        ListedPaper(named_twice, DAY, 4),
    ]
    second = [
        ListedPaper(replace(recredited, upvotes=7), DAY, 9, Signals(7, 3, None), credits("Hal Hh", "Ida Ii")),
        ListedPaper(named_first, NEXT, 1, None, credits("Dee Dd", "Eve Ee", "Jo Jj")),
        ListedPaper(replace(credited_first, authors=("F. Ff",)), NEXT, 2),
        ListedPaper(replace(named_twice, authors=("Gus Gg", "Kim Kk")), NEXT, 3),
    ]
    return [first, second]


async def test_a_cold_load_leaves_the_links_its_batches_would_have_left(
    stores: tuple[PaperService, PaperService], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold load holds its listings, snapshots and author rows until its end and writes them
    then (made while the server writes the counts and builds what does not need them): what it
    writes is what its batches would have left one after another, as SQLite's batches leave it,
    name slots counted down to 0 kept; and the hooks after the load (the alerts) find them
    written."""
    monkeypatch.setattr(pg_bulk, "COLD_LOAD_PAPERS", 1000)  # the real threshold is 10,000 papers
    first, second = relisted_across_batches()
    filler = many(BATCH_SIZE + 500)
    listed = [*first, *filler[: BATCH_SIZE - len(first)], *second, *filler[BATCH_SIZE - len(first) :]]
    assert [item in listed[BATCH_SIZE : 2 * BATCH_SIZE] for item in second] == [True] * len(second)
    seen: list[tuple[int, int, int]] = []

    async def count_links(_: object) -> None:
        db = postgres.database.connection
        counted = [
            int((await db.fetch_all(f"SELECT count(*) FROM {table}"))[0][0])
            for table in ("listings", "paper_signals", "paper_people")
        ]
        seen.append((counted[0], counted[1], counted[2]))

    reference, postgres = stores
    postgres.on_inserted(count_links)
    assert await postgres.repository.is_cold_load(len(listed))
    for service in stores:
        await service.ingest(listed)
    stored = await snapshot(postgres.database)
    assert stored == await snapshot(reference.database)
    assert seen == [(len(stored["listings"]), len(stored["signals"]), len(stored["people"]))]
    assert ("author", "Ann Aa", "ann", "ann aa", "aa", 0) in stored["names"]
    assert ("org", "Lab", "Lab", "lab", "lab", 0) in stored["names"]
    ids = [item.paper.id for item in second]
    assert [row[1:] for row in stored["people"] if row[0] == ids[0]] == [
        ("author", 0, "Hal Hh", "hal hh", "hh", "hal"),
        ("author", 1, "Ida Ii", "ida ii", "ii", "ida"),
    ]
    assert [row[3] for row in stored["people"] if row[0] == ids[2]] == ["Fay Ff"]
    assert [row[3] for row in stored["people"] if row[0] == ids[3]] == ["Gus Gg"]
    assert ("hf-api", DAY.isoformat(), ids[0], 9) in stored["listings"]


async def test_a_cold_load_adds_its_counts_to_count_rows_a_store_without_papers_still_holds(
    stores: tuple[PaperService, PaperService], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold load writes its word and title-word counts into the empty count tables as COPY
    streams; count tables that still hold rows (papers stored once and deleted by hand) are
    upserted, their rows counted on as a load batch by batch counts them: the same counts as
    SQLite's, where a COPY into them would have refused the word they hold."""
    monkeypatch.setattr(pg_bulk, "COLD_LOAD_PAPERS", 1000)  # the real threshold is 10,000 papers
    reference, postgres = stores
    listed = many(BATCH_SIZE + 500)
    held = sorted(word_set(listed[0].paper.title))[0]  # a word of the load's, already counted at 0
    for service in stores:
        async with service.database.transaction():
            await service.database.connection.execute(
                "INSERT INTO term_docs (term, docs) VALUES (?, 0)", (held,)
            )
            await service.database.connection.execute(
                "INSERT INTO title_terms (term, docs, generation) VALUES (?, 0, 0)", (held,)
            )
    assert await postgres.repository.is_cold_load(len(listed))
    for service in stores:
        await service.ingest(listed)
    stored = await snapshot(postgres.database)
    assert stored == await snapshot(reference.database)
    assert next(docs for term, docs, _ in stored["terms"] if term == held) > 0
    assert next(docs for term, docs in stored["words"] if term == held) > 0


async def test_a_cold_load_that_would_store_a_paper_twice_fails_whole(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The papers' unique constraints, built at the end of a cold load, still refuse a paper stored
    twice: a load whose placement missed a row it wrote stores nothing, and the store keeps its
    indexes and constraints."""
    monkeypatch.setattr(pg_bulk, "COLD_LOAD_PAPERS", 1000)  # the real threshold is 10,000 papers
    store = await PostgresDatabase.open(postgres_url)
    service = PaperService(store, clock=lambda: FIXED_NOW)
    await service.start()
    try:
        indexes, constraints = await search_indexes(store), await unique_constraints(store)
        listed = many(BATCH_SIZE + 500)
        again = replace(listed[0], list_date=listed[-1].list_date)  # in the second upsert batch
        monkeypatch.setattr(LoadedPapers, "matching", lambda self, ids, keys: [])  # blind to its rows
        with pytest.raises(Exception, match=r"unique index \"papers_(arxiv_)?id_key\""):
            await service.ingest([*listed, again])
        assert await service.repository.count() == 0
        assert await search_indexes(store) == indexes
        assert await unique_constraints(store) == constraints
        monkeypatch.undo()

        # The same load, placed against its own rows, stores the paper once.
        monkeypatch.setattr(pg_bulk, "COLD_LOAD_PAPERS", 1000)
        counts = await service.ingest([*listed, again])
        assert counts.new == BATCH_SIZE + 500
        assert await service.repository.count() == BATCH_SIZE + 500
        assert await unique_constraints(store) == constraints
    finally:
        await store.close()
