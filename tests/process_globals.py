"""What an in-process command changes in the process that a real command's own process would drop."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import discord


@contextmanager
def process_globals_restored() -> Iterator[None]:
    """Commands run in-process (CliRunner) point discord.py elsewhere and add log handlers bound to
    their own, later closed, streams: put both back, so that what runs next (another test, or the
    next example of a property) starts as a fresh process would."""
    endpoints = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = endpoints
        root.handlers[:] = handlers
        root.setLevel(level)
