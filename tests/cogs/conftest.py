from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from bot.client import PaperBot
from bot.domain.models import ListedPaper
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.database import Database
from tests.conftest import FIXED_NOW


class VirtualClock:
    """The services' clock: simcord's simulated time once the world exists."""

    def __init__(self) -> None:
        self.env: Any = None

    def __call__(self) -> datetime:
        return self.env.now() if self.env is not None else FIXED_NOW


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def settings() -> Settings:
    # The scheduler's own timers run on the wall clock; tests drive its jobs on the virtual one.
    return Settings(owner_ids=[], digest={"scheduler": False}, follows={"dm_interval_seconds": 0})


@pytest.fixture
async def services(
    database: Database, sample_papers: list[ListedPaper], clock: VirtualClock, settings: Settings
) -> Services:
    services = await Services.open(database, settings, clock=clock)
    await services.papers.ingest(sample_papers)
    return services


@pytest.fixture
async def simcord_bot(services: Services, settings: Settings) -> AsyncIterator[PaperBot]:
    yield PaperBot(services=services, settings=settings)


@pytest.fixture
async def world(simcord_env: Any, clock: VirtualClock) -> Any:
    """A server with a #papers channel, two members, and the commands synced (as an owner would)."""
    clock.env = simcord_env
    await simcord_env.bot.tree.sync()
    guild = simcord_env.create_guild(name="Research")
    channel = guild.create_text_channel("papers")
    alice = guild.add_member(simcord_env.create_user("alice"))
    bob = guild.add_member(simcord_env.create_user("bob"))
    return simcord_env, channel, alice, bob
