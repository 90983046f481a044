from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.client import PaperBot
from bot.services.container import Services
from bot.services.papers import PaperService
from bot.settings import Settings
from bot.storage.database import Database


@pytest.fixture
async def simcord_bot(loaded_service: PaperService, database: Database) -> AsyncIterator[PaperBot]:
    services = Services(database=database, papers=loaded_service)
    yield PaperBot(services=services, settings=Settings(owner_ids=[]))


@pytest.fixture
async def world(simcord_env: Any) -> Any:
    """A server with a #papers channel, two members, and the commands synced (as an owner would)."""
    await simcord_env.bot.tree.sync()
    guild = simcord_env.create_guild(name="Research")
    channel = guild.create_text_channel("papers")
    alice = guild.add_member(simcord_env.create_user("alice"))
    bob = guild.add_member(simcord_env.create_user("bob"))
    return simcord_env, channel, alice, bob
