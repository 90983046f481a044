"""Watching the background merge of the full-text indexes step by step, for the tests of it."""

from __future__ import annotations

import asyncio

import pytest

from bot.storage import index_merge
from bot.storage.database import Database


class StepWatch:
    """Watches the merge's steps (each its own transaction): ``started`` once the first one is
    under way, ``taken`` the steps that did work so far. ``pages`` overrides every step's size."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, pages: int | None = None) -> None:
        self.started = asyncio.Event()
        self.taken = 0
        real_step = index_merge.merge_step

        async def watched(database: Database, index: str, size: int = index_merge.STEP_PAGES) -> bool:
            self.started.set()  # from here until it commits, the step holds the writer
            did = await real_step(database, index, pages or size)
            self.taken += did
            return did

        monkeypatch.setattr(index_merge, "merge_step", watched)
