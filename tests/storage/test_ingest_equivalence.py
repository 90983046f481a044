"""A store filled by the ingest holds exactly what its rows define: the full-text indexes hold the
words a rebuild from the stored rows would give them (migration 0007's folding, token for token and
position for position), every listing, momentum snapshot and author credit points at the row of its
own paper, and the title vocabulary counts the stored titles.

The ingest writes the index rows from the values in hand and names the new rows' keys itself
instead of reading the rows back (bot.storage.papers); this is what that must never change. On
PostgreSQL, each row's search column must be the document of its stored columns' folded words.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import date

from bot.domain.models import ListedPaper, Paper, Signals
from bot.domain.people import AuthorCredit, Credits
from bot.parsing.hf_api import parse_hf_api
from bot.services.papers import PaperService
from bot.storage.connection import Store
from bot.storage.database import Database
from bot.storage.papers import PaperRepository
from bot.storage.pg_search import folded_columns, search_document
from bot.storage.postgres import PostgresDatabase
from tests.hf_api import recorded_day

DAY = date(2026, 2, 3)
NEXT = date(2026, 2, 4)
# Names JSON escapes or that fold (accents, quotes, a backslash, a line break), beside plain ones.
HOSTILE_NAMES = ('Ann "Nan" O\'Neil', "Tab\tName\\Slash", "Line\nBreak", "Zoë Müller", "Søren Ørsted")


def unicode_papers() -> list[ListedPaper]:
    """Papers whose title, abstract or authors are not plain ASCII, with and without arXiv ids."""
    papers = [
        Paper("Straße und Fluß: ﬁne Übersetzung", "Große Modelle übersetzen ＦＵＬＬ-width text.", "hf-api",
              arxiv_id="2602.90001", authors=HOSTILE_NAMES),
        Paper("KIRMIZI elma: Kırmızı evaluation", "An abstract in plain ASCII.", "hf-api",
              arxiv_id="2602.90002", authors=("Ada Lovelace", "Alan Turing")),
        Paper("A page capture without an arXiv id", "Ünïcödé abstract — with dashes", "hf-page",
              authors=("Zoë Müller",)),
    ]  # fmt: skip
    credits = Credits((AuthorCredit("Zoë Müller", "zoe"), AuthorCredit("Line\nBreak")), "org", "Org")
    return [
        ListedPaper(paper, DAY, rank, Signals(rank * 3, 1, None), credits)
        for rank, paper in enumerate(papers, 50)
    ]


def second_round(first: list[ListedPaper]) -> list[ListedPaper]:
    """The next day: every third paper retitled (the update path), all listed again, plus new ones."""
    again = []
    for number, item in enumerate(first):
        paper = item.paper
        if number % 3 == 0 and paper.arxiv_id:
            paper = Paper(
                paper.title + " (revised)", paper.abstract + " Ünïcödé too.", paper.source,
                arxiv_id=paper.arxiv_id, authors=(*paper.authors, "Søren Ørsted"),
            )  # fmt: skip
        again.append(ListedPaper(paper, NEXT, number + 1, Signals(number), item.credits))
    fresh = [
        ListedPaper(
            Paper(f"Fresh paper {n} on Straße", "Plain.", "hf-api", arxiv_id=f"2602.8{n:04d}"), NEXT, 90 + n
        )
        for n in range(5)
    ]
    return again + fresh


async def instances(database: Database, table: str) -> Counter[tuple[object, ...]]:
    """Every (term, row, column, offset) an FTS5 index holds."""
    vocabulary = f"{table}_check"
    await database.writer.execute(
        f"CREATE VIRTUAL TABLE temp.{vocabulary} USING fts5vocab(main, {table}, 'instance')"
    )
    async with database.writer.execute(f"SELECT term, doc, col, offset FROM temp.{vocabulary}") as cursor:
        found = Counter(tuple(row) for row in await cursor.fetchall())
    await database.writer.execute(f"DROP TABLE temp.{vocabulary}")
    return found


async def rebuilt(database: Database, table: str, columns: str, select: str) -> Counter[tuple[object, ...]]:
    """What an index of the same shape holds when built from the stored rows by ``select``."""
    await database.writer.execute(
        f"CREATE VIRTUAL TABLE {table} USING fts5 ({columns}, content = '', "
        "tokenize = 'unicode61 remove_diacritics 2')"
    )
    await database.writer.execute(f"INSERT INTO {table} (rowid, {columns}) {select}")
    return await instances(database, table)


async def assert_indexes_hold_the_rows_folded_words(store: Store) -> None:
    if isinstance(store, Database):
        # Token for token what migration 0007's folding of the stored rows gives.
        assert await instances(store, "papers_fts") == await rebuilt(
            store,
            "papers_reference",
            "title, abstract, authors",
            "SELECT pk, paperbot_search_text(title), paperbot_search_text(abstract), "
            "paperbot_authors_text(authors) FROM papers",
        )
        assert await instances(store, "titles_fts") == await rebuilt(
            store, "titles_reference", "title", "SELECT pk, paperbot_search_text(title) FROM papers"
        )
        return
    # PostgreSQL: each row's search column is the document of its stored columns' folded words.
    pks = [row["pk"] for row in await store.connection.fetch_all("SELECT pk FROM papers")]
    for pk, stored in (await PaperRepository.of(store).by_pks(pks)).items():
        found = await store.connection.fetch_all(
            "SELECT search = paperbot_document(?, ?, ?) AS same FROM papers WHERE pk = ?",
            (*folded_columns(stored.paper), pk),
        )
        assert found[0]["same"], stored.paper.title


async def test_an_ingested_store_holds_what_its_rows_define(database: Store, service: PaperService) -> None:
    first = parse_hf_api(json.dumps(recorded_day()).encode(), list_date=DAY) + unicode_papers()
    await service.ingest(first)
    second = second_round(first)
    await service.ingest_in_batches(second, batch_papers=7)  # several transactions
    listed = first + second

    await assert_indexes_hold_the_rows_folded_words(database)

    rows = await database.connection.fetch_all("SELECT pk, id, title_key FROM papers")
    id_of = {row["pk"]: row["id"] for row in rows}
    assert len(rows) == 40 + 3 + 5
    # The title vocabulary counts the stored titles' words (a retitled paper's old words gone).
    vocabulary = Counter(word for row in rows for word in set(row["title_key"].split()))
    assert await service.repository.title_terms() == dict(vocabulary)

    # Every listing, snapshot and credit is on the row of the paper it came with.
    last_rank = {(i.paper.source, i.list_date.isoformat(), i.paper.id): i.rank for i in listed if i.list_date}
    listings = await database.connection.fetch_all("SELECT source, list_date, paper_pk, rank FROM listings")
    assert {(r["source"], r["list_date"], id_of[r["paper_pk"]]): r["rank"] for r in listings} == last_rank
    snapshots = await database.connection.fetch_all("SELECT paper_pk, upvotes FROM paper_signals")
    last_upvotes = {i.paper.id: i.signals.upvotes for i in listed if i.signals}
    assert {id_of[r["paper_pk"]]: r["upvotes"] for r in snapshots} == last_upvotes
    people = await database.connection.fetch_all("SELECT paper_pk, kind, position, name FROM paper_people")
    credited = set()
    for item in second:
        credits = item.credits
        if credits is None:
            continue
        credited |= {(item.paper.id, "author", n, slot.name) for n, slot in enumerate(credits.authors)}
        if credits.org_name or credits.org_id:
            credited.add((item.paper.id, "org", 0, credits.org_name or credits.org_id))
    assert {(id_of[r["paper_pk"]], r["kind"], r["position"], r["name"]) for r in people} == credited

    # And the search finds papers by the folded words of each column.
    for typed, wanted in [("strasse", "2602.90001"), ("kirmizi", "2602.90002"), ("orsted", "2602.90001")]:
        assert wanted in {hit.paper.id for hit in (await service.search.find(typed, limit=50)).hits}


def document_cases() -> list[tuple[str, str, str]]:
    """Folded columns at the edges of the document: empty columns, repeated words (one lexeme, many
    positions), words over tsvector's 2,046-byte limit, positions past 16,383, non-Latin words,
    and text a tsvector literal would read as syntax if it were not quoted."""
    rng = random.Random(13)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789äßøıλжあ한"
    vocabulary = ["".join(rng.choices(alphabet, k=rng.randint(1, 9))) for _ in range(300)]

    def text(count: int) -> str:
        return " ".join(rng.choices(vocabulary, k=count))

    cases = [
        ("", "", ""),
        ("", "only an abstract", ""),
        ("a title", "", "ada lovelace"),
        ("attention is all", "all you need", "ada lovelace"),
        ("x" * 2046, "y" * 2047, "é" * 1023 + " " + "é" * 1024),
        ("x" * 2045, "", ""),  # "^" and the word: 2,046 bytes, still kept
        ("repeat " * 300, text(17000), "late author"),
        ("it's a back\\slash", "colon:word a:1A 'quoted'", "weight:B"),
    ]
    cases += [
        (text(rng.randint(0, 20)), text(rng.randint(0, 300)), text(rng.randint(0, 12))) for _ in range(40)
    ]
    return cases


async def test_the_search_document_built_by_the_ingest_is_paperbot_documents(
    postgres_url: str,
) -> None:
    store = await PostgresDatabase.open(postgres_url)
    try:
        for title, abstract, authors in document_cases():
            rows = await store.connection.fetch_all(
                "SELECT paperbot_document(?, ?, ?)::text AS server, ?::text::tsvector::text AS built",
                (title, abstract, authors, search_document(title, abstract, authors)),
            )
            assert rows[0]["built"] == rows[0]["server"], (title[:40], abstract[:40], authors[:40])
    finally:
        await store.close()
