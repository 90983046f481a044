"""Autocomplete offers titles by their own words, on both backends. On PostgreSQL those words live in
a table of their own (migration 0024) that the database fills from every write of a paper: a new
paper, a retitled one, a store made before the table existed."""

from __future__ import annotations

from bot.domain.models import ListedPaper, Paper, Source
from bot.services.papers import PaperService
from bot.storage.database import bundled_migrations
from tests.backends import Opener, later_tables_meanwhile

QUOKKA = "Quokka Ledgers for Distributed Bookkeeping"
WOMBAT = "Wombat Ledgers for Distributed Bookkeeping"
# Says "capybara" only in its abstract: a title suggestion must not come from there.
ABSTRACT = "We keep capybara accounts in append-only ledgers across many replicas."


def listed(title: str, arxiv_id: str = "2502.00001", abstract: str = ABSTRACT) -> ListedPaper:
    return ListedPaper(Paper(title=title, abstract=abstract, source=Source.HF_API, arxiv_id=arxiv_id))


async def titles(service: PaperService, typed: str) -> list[str]:
    return [suggestion.title for suggestion in await service.search.suggest(typed)]


async def test_a_title_is_suggested_by_its_words_and_their_prefixes_not_by_its_abstract(
    service: PaperService,
) -> None:
    await service.ingest([listed(QUOKKA), listed("Graph Pruning at Scale", "2502.00002", "Sparse graphs.")])
    assert await titles(service, "quokka ledg") == [QUOKKA]
    assert await titles(service, "bookk") == [QUOKKA]  # a prefix of a later title word
    assert await titles(service, "wombat ") == []  # a finished word no title holds
    assert QUOKKA not in await titles(service, "capybara ")


async def test_a_retitled_paper_is_suggested_by_its_new_title_only(service: PaperService) -> None:
    await service.ingest([listed(QUOKKA)])
    assert await titles(service, "quokka") == [QUOKKA]
    await service.ingest([listed(WOMBAT)])  # the same paper, its title changed upstream
    assert await titles(service, "wombat") == [WOMBAT]
    assert await titles(service, "quokka ") == []


async def test_papers_stored_before_the_title_table_are_suggested_after_the_upgrade(
    store_at: tuple[Opener, str],
) -> None:
    open_store, backend = store_at
    before = await open_store(migrations=bundled_migrations(backend)[:23])
    async with later_tables_meanwhile(before):
        await PaperService(before).ingest([listed(QUOKKA), listed(WOMBAT, "2502.00002")])
    await before.close()
    upgraded = await open_store()
    try:
        service = PaperService(upgraded)
        await service.start()
        assert await titles(service, "quokka") == [QUOKKA]
        assert sorted(await titles(service, "ledgers")) == [QUOKKA, WOMBAT]
    finally:
        await upgraded.close()
