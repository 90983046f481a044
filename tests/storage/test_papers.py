from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bot.domain.models import ListedPaper, Paper, Source
from bot.services.papers import PaperService

ABSTRACT = "A long enough abstract about sparse mixture of experts routing and its many benefits. " * 3


def page_paper(title: str = "Sparse Mixture of Experts Routing", **kw: object) -> Paper:
    return Paper(title=title, abstract=ABSTRACT, source=Source.HF_PAGE, **kw)  # type: ignore[arg-type]


async def test_reingest_is_unchanged_and_never_duplicates(
    loaded_service: PaperService, sample_papers: list
) -> None:
    counts = await loaded_service.ingest(sample_papers)
    assert (counts.new, counts.updated, counts.unchanged) == (0, 0, 69)
    assert (await loaded_service.stats()).papers == 69


async def test_same_title_from_another_source_upgrades_the_row(service: PaperService) -> None:
    await service.ingest([ListedPaper(page_paper(), date(2026, 7, 30), 1)])
    api = Paper(
        title="Sparse  mixture-of-experts routing",
        abstract=ABSTRACT,
        source=Source.HF_API,
        arxiv_id="2507.01234",
        authors=("Ada Lovelace", "Alan Turing"),
        upvotes=17,
    )
    counts = await service.ingest([ListedPaper(api, date(2026, 7, 31), 3)])
    assert (counts.new, counts.updated) == (0, 1)
    stats = await service.stats()
    assert stats.papers == 1
    paper = await service.show("2507.01234v2")
    assert paper.id == "2507.01234"
    assert paper.upvotes == 17
    assert paper.first_listed == date(2026, 7, 30)  # the earliest listing wins
    assert paper.source == Source.HF_PAGE  # the first source stays
    # The page again (no arXiv id, no upvotes) loses nothing the API knew.
    counts = await service.ingest([ListedPaper(page_paper(), date(2026, 7, 30), 1)])
    assert counts.new == 0
    again = await service.show("2507.01234")
    assert (again.authors, again.upvotes) == (("Ada Lovelace", "Alan Turing"), 17)
    assert (await service.stats()).papers == 1


async def test_same_arxiv_id_with_new_version_and_title_updates_one_row(service: PaperService) -> None:
    v1 = replace(page_paper("Old Title"), arxiv_id="2501.00001")
    await service.ingest([ListedPaper(v1)])
    await service.ingest([ListedPaper(replace(v1, title="Completely New Title"))])
    assert (await service.stats()).papers == 1
    hits = await service.search.search("completely new")
    assert [h.paper.title for h in hits] == ["Completely New Title"]
    assert await service.search.search("old") == []  # the index forgot the old text


async def test_different_arxiv_ids_with_the_same_title_stay_apart(service: PaperService) -> None:
    a = replace(page_paper("Attention Is All You Need"), arxiv_id="1706.03762")
    b = replace(page_paper("Attention Is All You Need"), arxiv_id="2401.99999")
    counts = await service.ingest([ListedPaper(a), ListedPaper(b)])
    assert counts.new == 2


async def test_duplicates_inside_one_batch_are_merged(service: PaperService) -> None:
    counts = await service.ingest(
        [
            ListedPaper(page_paper(), date(2026, 7, 30), 1),
            ListedPaper(page_paper(upvotes=5), date(2026, 7, 30), 1),
        ]
    )
    assert (counts.new, counts.updated, counts.unchanged) == (1, 0, 0)
    assert (await service.show(page_paper().id)).upvotes == 5


async def test_a_failing_batch_writes_nothing(service: PaperService, sample_papers: list) -> None:
    broken = [*sample_papers[:10], ListedPaper(page_paper(), date(2026, 7, 30), None)]

    async def explode(*_: object, **__: object) -> None:
        raise RuntimeError("disk on fire")

    service.repository._store_listings = explode  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="disk on fire"):
        await service.ingest(broken)
    assert (await service.stats()).papers == 0


async def test_daily_list_keeps_source_rank(loaded_service: PaperService) -> None:
    listing = await loaded_service.daily_list()
    assert listing.day == date(2026, 7, 30)
    assert len(listing.papers) == 69
    assert listing.papers[0].title.startswith("Value Function is All You Need")


async def test_two_arxiv_papers_sharing_a_stored_page_title_both_survive(service: PaperService) -> None:
    """Issue 10: a page paper without an arXiv id, then two arXiv papers with its title."""
    await service.ingest([ListedPaper(page_paper("Shared Title Paper"), date(2026, 7, 30), 1)])
    api = [
        ListedPaper(replace(page_paper("Shared Title Paper"), arxiv_id=f"2510.0000{n}", source=Source.HF_API))
        for n in (1, 2)
    ]
    counts = await service.ingest(api)
    assert (counts.new, counts.updated) == (2, 0)
    assert (await service.show("2510.00001")).arxiv_id == "2510.00001"
    assert (await service.show("2510.00002")).arxiv_id == "2510.00002"
    again = await service.ingest(api)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)


async def test_a_paper_listed_on_two_days_in_one_ingest_keeps_both_listings(service: PaperService) -> None:
    await service.ingest(
        [ListedPaper(page_paper(), date(2026, 7, 30), 1), ListedPaper(page_paper(), date(2026, 7, 31), 4)]
    )
    for day in (date(2026, 7, 30), date(2026, 7, 31)):
        assert [p.title for p in (await service.daily_list(day)).papers] == [page_paper().title]


async def test_a_paper_deleted_by_hand_takes_its_listings_and_author_rows_with_it(
    service: PaperService,
) -> None:
    # On PostgreSQL a delete trigger does this since migration 0035 (the foreign keys it replaced
    # cost the ingest a look-up per author row); SQLite keeps its ON DELETE CASCADE keys.
    gone = replace(page_paper("A Paper Removed By Hand"), authors=("Ada Lovelace", "Alan Turing"))
    kept = replace(page_paper("A Paper That Stays"), authors=("Grace Hopper",))
    await service.ingest([ListedPaper(gone, date(2026, 7, 30), 1), ListedPaper(kept, date(2026, 7, 30), 2)])
    async with service.database.transaction() as connection:
        await connection.execute("DELETE FROM papers WHERE id = ?", (gone.id,))
    db = service.database.connection
    assert [tuple(row) for row in await db.fetch_all("SELECT name FROM paper_people")] == [("Grace Hopper",)]
    assert [row[0] for row in await db.fetch_all("SELECT rank FROM listings")] == [2]
    assert [paper.title for paper in (await service.daily_list(date(2026, 7, 30))).papers] == [kept.title]
