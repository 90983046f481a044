"""A throwaway HTTP server on 127.0.0.1 for tests: recorded answers and failures, never the internet."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def loopback_server(handler: Handler) -> AsyncIterator[str]:
    """Serve every path with ``handler``; yields the base URL (http://127.0.0.1:PORT)."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    # A short shutdown: handlers that hang on purpose (timeouts) must not hold the test up.
    runner = web.AppRunner(app, shutdown_timeout=0.1, handler_cancellation=True)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (a connect there is refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
