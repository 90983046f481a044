"""A batched ingest (the CLI's) lets another process's writes in between its commits, and never
stores part of one list day without the rest."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.models import ListedPaper, Paper, Source
from bot.services import papers as paper_service
from bot.services.papers import PaperService, whole_days
from bot.storage.database import Database
from bot.storage.generations import GenerationRepository
from bot.storage.papers import PaperRepository

START = date(2024, 7, 1)


def listed(number: int, day: int) -> ListedPaper:
    paper = Paper(
        title=f"Paper number {number}",
        abstract="An abstract.",
        source=Source.HF_API,
        arxiv_id=f"2501.{number:05d}",
    )
    return ListedPaper(paper, START + timedelta(days=day), rank=number)


@given(st.lists(st.integers(min_value=0, max_value=6), max_size=40), st.integers(min_value=1, max_value=8))
def test_batches_hold_whole_days_in_order_and_stay_near_the_size(days: list[int], size: int) -> None:
    items = [listed(n, day) for n, day in enumerate(days)]
    batches = whole_days(items, size)
    flat = [item for batch in batches for item in batch]
    assert sorted(flat, key=lambda i: i.rank or 0) == items  # every paper once
    for day in set(days):  # each day in one batch, in its own order
        holding = [b for b in batches if any(i.list_date == START + timedelta(days=day) for i in b)]
        assert len(holding) == 1
        of_day = [i for i in holding[0] if i.list_date == START + timedelta(days=day)]
        assert of_day == [i for i in items if i.list_date == START + timedelta(days=day)]
    for batch in batches:  # over the size only when one day alone is bigger
        assert len(batch) <= size or len({i.list_date for i in batch}) == 1


async def test_another_process_write_gets_in_between_the_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bot's write that meets a CLI ingest's lock waits for one batch, not for the whole ingest."""
    # The mechanism, not the constant: a long pause keeps this independent of how busy the machine is.
    monkeypatch.setattr(paper_service, "BETWEEN_COMMITS_SECONDS", 0.2)
    path = tmp_path / "store.db"
    cli_db, bot_db = await Database.open(path), await Database.open(path)
    try:
        cli = PaperService(cli_db)
        real_write = PaperRepository.write
        order: list[str] = []
        bot_write: list[asyncio.Task[None]] = []

        async def bot_follows_a_keyword() -> None:
            async with bot_db.transaction():
                await GenerationRepository.of(bot_db).bump("follows")
            order.append("bot write")

        async def write(self: PaperRepository, *args: object, **kwargs: object) -> object:
            order.append("cli batch")
            if not bot_write:  # the CLI holds the lock now: the bot's write must wait for it
                bot_write.append(asyncio.create_task(bot_follows_a_keyword()))
            return await real_write(self, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(PaperRepository, "write", write)
        counts = await cli.ingest_in_batches([listed(n, n) for n in range(10)], batch_papers=1)
        await bot_write[0]
        assert counts.new == 10
        assert order.index("bot write") < len(order) - 1, order  # before the ingest's last batch
    finally:
        await cli_db.close()
        await bot_db.close()
