"""Author rows of papers a batch stores for the first time are written the short way (no look-up,
no conflict clause; PostgreSQL's as one COPY stream): a member sees the same rows, autocomplete
answers and credits as when the same listings reach papers already stored (the look-up-and-upsert
way every batch used before)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.models import ListedPaper, Paper, Source
from bot.domain.people import AuthorCredit, Credits, PersonKind
from bot.services.papers import PaperService
from bot.storage.connection import Store
from bot.storage.database import Database
from bot.storage.people import PeopleRepository
from bot.storage.postgres import PostgresDatabase
from tests.postgres_server import PostgresServer

ABSTRACT = "An abstract long enough to be one, about attention and the models built on it."
NAMES = (
    ("Ashish Vaswani", "Łukasz Kaiser", "Jürgen Straße"),
    ("Grace Hopper", "---", "Ada Lovelace"),
    ("Ada Lovelace", "Y. LeCun", "ÅNGSTRÖM, Anders-Jonas"),
    ("Ashish Vaswani", "Noam Shazeer", "Niki Parmar", "Jakob Uszkoreit", "Llion Jones"),
)


def paper(number: int, source: Source, authors: tuple[str, ...]) -> Paper:
    return Paper(
        title=f"Paper number {number} on attention",
        abstract=ABSTRACT,
        source=source,
        arxiv_id=f"2501.{number:05d}",
        authors=authors,
    )


def listings() -> list[ListedPaper]:
    named = [ListedPaper(paper(n, Source.ARXIV_ATOM, NAMES[n % len(NAMES)])) for n in range(12)]
    credited = [
        ListedPaper(
            paper(100, Source.HF_API, ("Yann LeCun", "Ada Lovelace")),
            credits=Credits(
                (AuthorCredit("Yann LeCun", "ylecun"), AuthorCredit("Ada Lovelace")), "meta", "Meta"
            ),
        ),
        ListedPaper(
            paper(101, Source.HF_API, ("Grace Hopper",)),
            credits=Credits((AuthorCredit("Grace Hopper", "ghopper"),), None, "Navy Research"),
        ),
    ]
    # The claimed paper in the same batch from the arXiv feed: its names never replace the claims.
    feed_of_claimed = ListedPaper(paper(100, Source.ARXIV_ATOM, ("Y. LeCun", "A. Lovelace", "Someone Else")))
    return [*named[:6], *credited, feed_of_claimed, *named[6:]]


def bare(item: ListedPaper) -> ListedPaper:
    """The same paper listed before with no authors: it is stored, with no author rows."""
    return ListedPaper(paper(int(item.paper.arxiv_id[-5:]), Source.ARXIV_ATOM, ()))


@pytest.fixture(params=["sqlite", "postgres"])
async def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Store, Store]]:
    if request.param == "sqlite":
        stores: tuple[Store, Store] = (
            await Database.open(tmp_path / "batch.db"),
            await Database.open(tmp_path / "stored.db"),
        )
        yield stores
        for store in stores:
            await store.close()
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    urls = [await server.fresh_database(), await server.fresh_database()]
    stores = (await PostgresDatabase.open(urls[0]), await PostgresDatabase.open(urls[1]))
    yield stores
    for store, url in zip(stores, urls, strict=True):
        await store.close()
        await server.release(url)


async def rows_by_paper(store: Store) -> list[tuple[object, ...]]:
    async with store.connection.execute(
        "SELECT papers.arxiv_id, kind, position, name, folded, family, hf_id "
        "FROM paper_people JOIN papers ON papers.pk = paper_people.paper_pk "
        "ORDER BY papers.arxiv_id, kind, position"
    ) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]


async def answers(store: Store) -> list[object]:
    people = PeopleRepository.of(store)
    typed = ["a", "ada", "vasw", "kaiser", "strasse", "angstrom", "lecun", "y", "hopper", "jones", "x"]
    found: list[object] = [await people.known(PersonKind.AUTHOR, t, limit=25) for t in typed]
    found += [await people.known(PersonKind.ORG, t, limit=25) for t in ("meta", "navy", "n")]
    async with store.connection.execute("SELECT pk, arxiv_id FROM papers") as cursor:
        ids = {int(row["pk"]): row["arxiv_id"] for row in await cursor.fetchall()}
    credits = await people.credits(ids)
    found.append(sorted((ids[pk], credit) for pk, credit in credits.items()))
    return found


async def test_new_papers_get_the_author_rows_and_answers_stored_papers_get(
    two_stores: tuple[Store, Store],
) -> None:
    batch_store, stored_store = two_stores
    batch, stored = PaperService(batch_store), PaperService(stored_store)
    await batch.start()
    await stored.start()
    await batch.ingest(listings())  # every paper new in this batch
    await stored.ingest([bare(item) for item in listings()])
    await stored.ingest(listings())  # every paper already stored, without rows

    rows = await rows_by_paper(batch_store)
    assert rows == await rows_by_paper(stored_store)
    assert await answers(batch_store) == await answers(stored_store)
    # What a member sees: the names as written, folded for look-up, claims kept, "---" no author.
    assert ("2501.00000", "author", 1, "Łukasz Kaiser", "lukasz kaiser", "kaiser", None) in rows
    assert (
        "2501.00002",
        "author",
        2,
        "ÅNGSTRÖM, Anders-Jonas",
        "angstrom anders jonas",
        "jonas",
        None,
    ) in rows
    assert [r[3] for r in rows if r[0] == "2501.00001"] == ["Grace Hopper", "Ada Lovelace"]
    assert [(r[3], r[6]) for r in rows if r[0] == "2501.00100"] == [
        ("Yann LeCun", "ylecun"),
        ("Ada Lovelace", None),
        ("Meta", "meta"),
    ]
    ada = await PeopleRepository.of(batch_store).known(PersonKind.AUTHOR, "lovelace", limit=5)
    assert [(p.name, p.papers) for p in ada] == [("Ada Lovelace", 7)]
