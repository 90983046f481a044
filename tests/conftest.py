from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from bot.data import bundled_sample
from bot.domain.models import ListedPaper
from bot.parsing.hf_page import parse_hf_page
from bot.services.papers import PaperService
from bot.storage.database import Database
from tests.process_globals import process_globals_restored

# Property tests check behaviour, not speed: no per-example deadline that a busy CI machine could trip.
settings.register_profile("paperbot", deadline=None, suppress_health_check=[HealthCheck.too_slow])
# `make stress`: ten times the examples of every property test (tests/property_budget.py scales those
# that name their own number), so what an everyday run draws once in many CI runs is drawn by us first.
# Not part of `make test`; failures print the blob that replays them.
settings.register_profile(
    "stress", parent=settings.get_profile("paperbot"), max_examples=1000, print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "paperbot"))

SAMPLE_DAY = date(2026, 7, 30)
FIXED_NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _process_globals_restored() -> Iterator[None]:
    """No test sees another's leftovers (tests/process_globals.py)."""
    with process_globals_restored():
        yield


@pytest.fixture
def sample_papers() -> list[ListedPaper]:
    name, data = bundled_sample()
    return parse_hf_page(data, source=name, today=date(2026, 11, 27))


@pytest.fixture(scope="session")
def migrated_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty store at the newest schema, made once: each test's store starts as a copy of it
    instead of running every migration again (the same file a fresh open would leave)."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"

    async def make() -> None:
        await (await Database.open(path, readers=0)).close()

    # Its own thread and loop: pytest-asyncio owns this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, make()).result()
    return path


@pytest.fixture
async def database(tmp_path: Path, migrated_store: Path) -> AsyncIterator[Database]:
    shutil.copyfile(migrated_store, tmp_path / "test.db")
    db = await Database.open(tmp_path / "test.db")
    yield db
    await db.close()


@pytest.fixture
async def service(database: Database) -> PaperService:
    svc = PaperService(database, clock=lambda: FIXED_NOW)
    await svc.start()
    return svc


@pytest.fixture
async def loaded_service(service: PaperService, sample_papers: list[ListedPaper]) -> PaperService:
    await service.ingest(sample_papers)
    return service


@pytest.fixture
async def shared(tmp_path: Path) -> AsyncIterator[tuple[Database, Database]]:
    """One database file as two processes open it (each its own connections)."""
    one = await Database.open(tmp_path / "shared.db")
    two = await Database.open(tmp_path / "shared.db")
    try:
        yield one, two
    finally:
        await one.close()
        await two.close()
