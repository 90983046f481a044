"""Every source that names a paper's authors gives it author rows, on both backends: `/follow author`
autocomplete offers an arXiv feed's or a page's authors as it offers Hugging Face's, Hugging Face's
claims are never replaced by a feed's names, and a store from before (migration 0027) gains the
rows the ingest writes today, from the names it already keeps."""

from __future__ import annotations

from bot.domain.models import ListedPaper, Paper, Source
from bot.domain.people import AuthorCredit, Credits, PersonKind
from bot.services.papers import PaperService
from bot.storage.connection import Store
from bot.storage.database import bundled_migrations
from bot.storage.people import PeopleRepository
from tests.backends import Opener, later_tables_meanwhile

ABSTRACT = "An abstract long enough to be one, about attention and the models built on it."


def paper(number: int, title: str, source: Source, authors: tuple[str, ...]) -> Paper:
    return Paper(
        title=title, abstract=ABSTRACT, source=source, arxiv_id=f"2501.{number:05d}", authors=authors
    )


CLAIMED = ListedPaper(
    paper(1, "Claimed on Hugging Face", Source.HF_API, ("Yann LeCun", "Ada Lovelace")),
    credits=Credits((AuthorCredit("Yann LeCun", "ylecun"), AuthorCredit("Ada Lovelace")), "meta", "Meta"),
)
FROM_FEED = ListedPaper(
    paper(
        2, "Only in the arXiv feed", Source.ARXIV_ATOM, ("Ashish Vaswani", "Łukasz Kaiser", "Jürgen Straße")
    )
)
FROM_PAGE = ListedPaper(paper(3, "Only on the page text", Source.HF_PAGE, ("Grace Hopper", "---")))
# The claimed paper again, from the arXiv feed: its names must not replace Hugging Face's claims.
CLAIMED_IN_FEED = ListedPaper(
    paper(1, "Claimed on Hugging Face", Source.ARXIV_ATOM, ("Y. LeCun", "A. Lovelace", "Someone Else"))
)


async def rows(store: Store) -> list[tuple[object, ...]]:
    async with store.connection.execute(
        "SELECT paper_pk, kind, position, name, folded, family, hf_id FROM paper_people "
        "ORDER BY paper_pk, kind, position"
    ) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]


async def test_a_feed_or_page_papers_authors_are_offered_like_hugging_faces(
    service: PaperService, database: Store
) -> None:
    await service.ingest([CLAIMED, FROM_FEED, FROM_PAGE])
    await service.ingest([CLAIMED_IN_FEED])
    people = PeopleRepository.of(database)

    assert [p.name for p in await people.known(PersonKind.AUTHOR, "vasw", limit=5)] == ["Ashish Vaswani"]
    assert [p.name for p in await people.known(PersonKind.AUTHOR, "kaiser", limit=5)] == ["Łukasz Kaiser"]
    assert [p.name for p in await people.known(PersonKind.AUTHOR, "strasse", limit=5)] == ["Jürgen Straße"]
    assert [p.name for p in await people.known(PersonKind.AUTHOR, "hopper", limit=5)] == ["Grace Hopper"]
    # Hugging Face's claim and order stay; the feed's spelling of the same paper adds nothing.
    lecun = await people.known(PersonKind.AUTHOR, "lecun", limit=5)
    assert [(p.name, p.hf_id) for p in lecun] == [("Yann LeCun", "ylecun")]
    assert await people.known(PersonKind.AUTHOR, "someone", limit=5) == []
    # A "name" with nothing to look it up by is no author.
    assert len([r for r in await rows(database) if r[0] == 3]) == 1


async def test_an_older_store_gains_the_rows_the_ingest_writes_today(store_at: tuple[Opener, str]) -> None:
    open_store, backend = store_at
    old = await open_store(migrations=bundled_migrations(backend)[:26])
    service = PaperService(old)
    await service.start()
    async with later_tables_meanwhile(old):
        await service.ingest([CLAIMED, FROM_FEED, FROM_PAGE])
    today = await rows(old)
    # What paperbot before migration 27 kept: Hugging Face's credits only.
    async with old.transaction() as connection:
        await connection.execute("DELETE FROM paper_people WHERE hf_id IS NULL AND paper_pk <> 1")
    assert {r[0] for r in await rows(old)} == {1}
    await old.close()

    upgraded = await open_store()
    try:
        assert await rows(upgraded) == today
        assert [
            p.name for p in await PeopleRepository.of(upgraded).known(PersonKind.AUTHOR, "kaiser", limit=5)
        ] == ["Łukasz Kaiser"]
    finally:
        await upgraded.close()
