"""Watching the background merge of the full-text indexes step by step, for the tests of it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiosqlite
import pytest

from bot.storage import index_merge
from bot.storage.database import Database


class StepWatch:
    """Watches the merge's steps (each its own transaction): ``started`` once the first one is
    under way, ``taken`` the steps that did work so far. ``pages`` overrides every step's size.

    ``first_holds``: the first step keeps the writer (its transaction begun) until the event is
    set; ``later_wait``: every later step starts only once that event is set. Together they let a
    test meet a step in hand and see what the next writer does, whatever the machine's load
    (timing alone let a busy machine finish the whole merge before the test's write arrived)."""

    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        pages: int | None = None,
        *,
        first_holds: asyncio.Event | None = None,
        later_wait: asyncio.Event | None = None,
    ) -> None:
        self.started = asyncio.Event()
        self.taken = 0
        real_step = index_merge.merge_step

        async def watched(database: Database, index: str, size: int = index_merge.STEP_PAGES) -> bool:
            if self.started.is_set():
                if later_wait is not None:
                    await later_wait.wait()
            elif first_holds is not None:  # started once its transaction has begun
                _hold_next_transaction(monkeypatch, database, first_holds, self.started)
            else:
                self.started.set()  # from here until it commits, the step holds the writer
            did = await real_step(database, index, pages or size)
            self.taken += did
            return did

        monkeypatch.setattr(index_merge, "merge_step", watched)


def _hold_next_transaction(
    monkeypatch: pytest.MonkeyPatch, database: Database, release: asyncio.Event, begun: asyncio.Event
) -> None:
    """The next transaction on ``database`` (only that one) holds the writer until ``release``."""
    real_transaction = database.transaction

    @asynccontextmanager
    async def held() -> AsyncIterator[aiosqlite.Connection]:
        monkeypatch.setattr(database, "transaction", real_transaction)
        async with real_transaction() as writer:
            begun.set()
            await release.wait()
            yield writer

    monkeypatch.setattr(database, "transaction", held)
