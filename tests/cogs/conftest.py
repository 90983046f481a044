from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from simcord import interactions as simcord_interactions

from bot.client import PaperBot
from bot.domain.models import ListedPaper
from bot.domain.uploads import UPLOAD_BYTES
from bot.parsing.hf_api import parse_hf_api
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.database import Database
from tests.conftest import FIXED_NOW
from tests.hf_api import FakeHfApi, fake_hf_api


class VirtualClock:
    """The services' clock: simcord's simulated time once the world exists."""

    def __init__(self) -> None:
        self.env: Any = None

    def __call__(self) -> datetime:
        return self.env.now() if self.env is not None else FIXED_NOW


@pytest.fixture(autouse=True)
def unboosted_upload_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every interaction announces what Discord gives a bot in a server without boosts
    (bot/domain/uploads.py), as the project's own emulator does: simcord (pinned) still announces
    the 25 MiB Discord allowed before 2024, so an export between the two passed here and failed
    on Discord."""
    base_payload = simcord_interactions.base_payload

    def announced(*args: Any, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        record, payload = base_payload(*args, **kwargs)
        return record, payload | {"attachment_size_limit": UPLOAD_BYTES}

    monkeypatch.setattr(simcord_interactions, "base_payload", announced)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def settings() -> Settings:
    # The scheduler's own timers run on the wall clock; tests drive its jobs on the virtual one.
    # One shard: simcord runs a sharded client with the count given (it has no /gateway/bot to ask).
    return Settings(
        owner_ids=[], digest={"scheduler": False}, follows={"dm_interval_seconds": 0}, shard_count=1
    )


@pytest.fixture
async def hf_api() -> AsyncIterator[FakeHfApi]:
    async with fake_hf_api() as api:
        yield api


@pytest.fixture
async def services(
    database: Database,
    sample_papers: list[ListedPaper],
    clock: VirtualClock,
    settings: Settings,
    hf_api: FakeHfApi,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Services]:
    """The bot's services, holding the bundled sample list (a module with ``SAMPLE_PAPERS = False``
    brings its own papers). A module with ``LIVE_SOURCES = True`` gets the live fetcher too, pointed
    at the loopback Hugging Face API of the ``hf_api`` fixture."""
    sample = sample_papers if getattr(request.module, "SAMPLE_PAPERS", True) else []
    if not getattr(request.module, "LIVE_SOURCES", False):
        services = await Services.open(database, settings, clock=clock)
        if sample:
            await services.papers.ingest(sample)
        yield services
        return
    sources = settings.sources.model_copy(update={"hf_api_url": hf_api.url, "retry_attempts": 1})
    live = settings.model_copy(update={"sources": sources})
    async with aiohttp.ClientSession() as session:
        services = await Services.open(database, live, session=session, clock=clock)
        if sample:
            await services.papers.ingest(sample)
        yield services


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


@pytest.fixture
async def digest_env(world: Any, services: Services) -> Any:
    """The world with one day's list (Thursday 2026-01-01, the day simcord's clock starts): "ThinK:
    Thinner Key Cache…", "Federated Diffusion Models…" and "@everyone Read This…"."""
    env = world[0]
    fixture = Path(__file__).parent.parent / "fixtures" / "hf_daily_2024-07-31.json"
    await services.papers.ingest(parse_hf_api(fixture.read_bytes(), list_date=date(2026, 1, 1)))
    return env
