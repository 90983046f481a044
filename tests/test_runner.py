"""`paperbot run` keeps what start-up built out of the cyclic collector's scans before it connects,
so a full collection under load pauses the loop for what serving allocated, not for the whole heap."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from bot import runner
from bot.client import PaperBot
from bot.services.container import open_services
from bot.settings import Settings


async def test_the_startup_heap_is_frozen_before_the_bot_connects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(db=tmp_path / "bot.db", discord_token="not-a-token", digest={"scheduler": False})
    frozen_at_connect: list[int] = []

    async def start(self: PaperBot, token: str, *, reconnect: bool = True) -> None:
        frozen_at_connect.append(gc.get_freeze_count())

    monkeypatch.setattr(PaperBot, "start", start)
    try:
        async with open_services(settings, warm=False) as services:
            await runner._serve(services, settings)
    finally:
        gc.unfreeze()  # the test process goes on collecting as before
    assert frozen_at_connect and frozen_at_connect[0] > 0
