"""A loopback Discord: enough of REST v10 and the gateway for discord.py 2.7 to run a real bot.

Bound to 127.0.0.1. Tests (and the sandbox) drive it through a small Python API: create guilds,
channels and members, run ``slash``/``autocomplete``/``click`` as a member, wait for messages and
DMs, and inject failures (HTTP errors, 429 bursts, gateway disconnects). Routes it does not know
answer 404 and are logged in ``unknown_routes``.

One module per part, each a layer over the shared world:
``world`` (state, builders, waiting), ``gateway`` (HELLO/IDENTIFY/RESUME, dispatch), ``rest``
(the REST routes), ``interactions`` (members acting), ``faults`` (failures on demand), with
``shards`` (Discord's sharding rules, kept by the gateway) and ``ratelimit`` (Discord's global and
per-route limits, enforced in the faults middleware).
"""

from __future__ import annotations

from aiohttp import web

from bot.sandbox.auth import DEFAULT_TOKEN
from bot.sandbox.faults import Fault, Faults
from bot.sandbox.gateway import Gateway
from bot.sandbox.interactions import Interactions
from bot.sandbox.model import InteractionRecord
from bot.sandbox.rest import Rest
from bot.sandbox.rules import ATTACHMENT_BYTES, ATTACHMENTS
from bot.sandbox.world import API

__all__ = ["DiscordEmulator", "Fault", "InteractionRecord"]


class DiscordEmulator(Interactions, Rest, Faults, Gateway):
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = DEFAULT_TOKEN,
        rate_limited: bool = True,
        max_concurrency: int = 1,
    ) -> None:
        """``token``: the bot's, the only one answered (others: 401, gateway 4004);
        ``max_concurrency``: IDENTIFYs allowed per 5 s (Discord gives large bots 16)."""
        super().__init__(
            host=host, port=port, token=token, rate_limited=rate_limited, max_concurrency=max_concurrency
        )
        self._runner: web.AppRunner | None = None

    async def start(self) -> DiscordEmulator:
        # Room for a message's uploads at Discord's limits, so that the routes (not aiohttp) judge them.
        app = web.Application(
            middlewares=[self._middleware], client_max_size=(ATTACHMENTS + 1) * ATTACHMENT_BYTES
        )
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{id}/{name}", self._attachment)
        app.router.add_route("*", API + "/{tail:.*}", self._route)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self.stopping.set()  # held-back answers (hang faults) are released
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
