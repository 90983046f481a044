"""The bot's background merge of the full-text indexes is SQLite's: PostgreSQL's GIN indexes keep
their own pending list, so there the bot merges nothing and the doctor shows no segment count."""

from __future__ import annotations

from bot.domain.models import ListedPaper
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.connection import Store
from bot.storage.index_merge import INDEXES
from tests.conftest import FIXED_NOW


async def test_the_indexes_are_merged_on_sqlite_and_left_alone_on_postgres(
    database: Store, sample_papers: list[ListedPaper]
) -> None:
    services = await Services.open(database, Settings(), clock=lambda: FIXED_NOW)
    half = len(sample_papers) // 2
    for part in (sample_papers[:half], sample_papers[half:]):  # a segment each
        await services.papers.ingest(part)

    segments = await services.index_segments()
    merged = await services.merge_indexes()

    if database.dialect.postgres:
        assert segments is None and merged is None
        return
    assert segments == dict.fromkeys(INDEXES, 2)
    # Two segments are within the default allowance: a small fetch does not rewrite the index.
    assert merged is not None and merged.steps == 0
    assert await services.index_segments() == segments
