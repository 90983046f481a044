"""Storage and service tests run on both backends (see tests/backends.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.services.papers import PaperService
from bot.storage import pg_bulk
from bot.storage.postgres import PostgresDatabase
from tests.backends import database, postgres_server, postgres_url, store_at
from tests.conftest import FIXED_NOW

__all__ = ["cold_load_service", "database", "postgres_server", "postgres_url", "store_at"]


@pytest.fixture
async def cold_load_service(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[PaperService]:
    """A PostgreSQL paper service whose ingests of 1,000 papers or more into an empty store are cold
    loads (the real threshold is 10,000 papers)."""
    monkeypatch.setattr(pg_bulk, "COLD_LOAD_PAPERS", 1000)
    store = await PostgresDatabase.open(postgres_url)
    paper_service = PaperService(store, clock=lambda: FIXED_NOW)
    await paper_service.start()
    try:
        yield paper_service
    finally:
        await store.close()
