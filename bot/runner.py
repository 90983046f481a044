"""Running the Discord bot: resources opened here and passed in (discord.py's advanced_startup pattern)."""

from __future__ import annotations

import asyncio
import logging
import signal

import aiohttp

from bot.client import PaperBot, use_endpoints
from bot.services.container import Services, open_services
from bot.settings import Settings

log = logging.getLogger(__name__)


async def run_bot(settings: Settings) -> None:
    """Connect and serve until SIGINT/SIGTERM; then close the bot and the database cleanly."""
    assert settings.discord_token is not None
    use_endpoints(settings.discord_api_base, settings.discord_gateway_url)
    try:
        async with aiohttp.ClientSession() as session, open_services(settings, session=session) as services:
            await _serve(services, settings)
    finally:
        log.info("stopped: database closed")


async def _serve(services: Services, settings: Settings) -> None:
    assert settings.discord_token is not None
    async with PaperBot(services=services, settings=settings) as bot:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, lambda: asyncio.ensure_future(bot.close()))
        await bot.start(settings.discord_token.get_secret_value())


async def sync_commands(settings: Settings, guild_id: int | None) -> list[str]:
    """Log in over HTTP only (no gateway), publish the command tree, log out."""
    assert settings.discord_token is not None
    use_endpoints(settings.discord_api_base, settings.discord_gateway_url)
    async with open_services(settings, warm=False) as services:
        # Logging in runs setup_hook; a one-shot sync must not start the posting schedule.
        quiet = settings.model_copy(
            update={"digest": settings.digest.model_copy(update={"scheduler": False})}
        )
        async with PaperBot(services=services, settings=quiet) as bot:
            await bot.login(settings.discord_token.get_secret_value())  # runs setup_hook: cogs loaded
            return await bot.publish_commands(guild_id)
