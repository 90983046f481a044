from __future__ import annotations

from collections.abc import Iterator

import discord
import pytest
import yarl

from bot.client import use_endpoints


@pytest.fixture
def restore_endpoints() -> Iterator[None]:
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


def test_loopback_endpoints_replace_discord(restore_endpoints: None) -> None:
    use_endpoints("http://127.0.0.1:8123/api/v10/", "ws://127.0.0.1:8123/gateway")
    assert discord.http.Route("GET", "/gateway/bot").url == "http://127.0.0.1:8123/api/v10/gateway/bot"
    assert yarl.URL("ws://127.0.0.1:8123/gateway") == discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


def test_without_endpoints_nothing_changes(restore_endpoints: None) -> None:
    use_endpoints(None, None)
    assert discord.http.Route.BASE == "https://discord.com/api/v10"
