"""``migrate-store`` of a SQLite store holding a paper past what a tsvector holds: PostgreSQL
refused the copy ("string is too long for tsvector") on every run, so that store could never
move. The paper's vector now leaves out what tsvector cannot hold, as the server's own
``paperbot_document`` does, and the copy's check passes."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date
from pathlib import Path

from bot.domain.models import ListedPaper
from bot.services.papers import PaperService
from bot.storage.database import Database
from bot.storage.postgres import PostgresDatabase
from tests.conftest import FIXED_NOW
from tests.migrate_store_fixtures import postgres_server, postgres_url, run, sqlite_store
from tests.storage.test_pg_document_size import huge_paper

__all__ = ["postgres_server", "postgres_url", "sqlite_store"]


async def _add_huge_paper(path: Path) -> None:
    store = await Database.open(path)
    service = PaperService(store, clock=lambda: FIXED_NOW)
    await service.start()
    paper = replace(huge_paper(), arxiv_id="2602.99999")
    assert (await service.ingest([ListedPaper(paper, date(2026, 2, 3), 1)])).new == 1
    await store.close()


async def _titles_found(url: str) -> list[str | None]:
    store = await PostgresDatabase.open(url)
    service = PaperService(store, clock=lambda: FIXED_NOW)
    await service.start()
    try:
        return [hit.paper.arxiv_id for hit in await service.search.search("gigantic survey")]
    finally:
        await store.close()


def test_a_store_holding_a_paper_past_tsvectors_size_moves_and_is_checked(
    sqlite_store: Path, postgres_url: str
) -> None:
    asyncio.run(_add_huge_paper(sqlite_store))
    code, output = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 0, output
    assert "papers: 70 rows, 70 added" in output and "every table's digest matches" in output
    assert asyncio.run(_titles_found(postgres_url)) == ["2602.99999"]
    code, again = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 0 and "papers: 70 rows, 0 added, 0 changed, 0 removed" in again, again
