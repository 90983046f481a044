"""The emulator's own contract: Discord's content type, rate-limit headers, 429s, multipart, 404s."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.sandbox.emulator import DiscordEmulator


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    emulator = await DiscordEmulator().start()
    yield emulator
    await emulator.stop()


async def test_json_content_type_is_exact_and_rate_limit_headers_are_sent(emu: DiscordEmulator) -> None:
    async with aiohttp.ClientSession() as session, session.get(emu.api_base + "/users/@me") as response:
        assert response.headers["Content-Type"] == "application/json"  # no charset, as Discord
        assert response.headers["X-RateLimit-Bucket"] and response.headers["X-RateLimit-Remaining"]
        assert (await response.json())["bot"] is True


async def test_unknown_routes_answer_404_and_are_logged(emu: DiscordEmulator) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(emu.api_base + "/guilds/1/emojis", json={}) as response,
    ):
        assert response.status == 404
    assert emu.unknown_routes == ["POST /guilds/1/emojis"]


async def test_429s_on_demand_carry_retry_after(emu: DiscordEmulator) -> None:
    guild = emu.create_guild("g")
    channel = emu.create_channel(guild, "c")
    emu.inject("POST", "/channels/*/messages", status=429, times=1, retry_after=0.25)
    url = f"{emu.api_base}/channels/{channel.id}/messages"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"content": "x"}) as limited:
            assert limited.status == 429
            assert limited.headers["Retry-After"] == "0.25"
            assert (await limited.json())["retry_after"] == 0.25
        async with session.post(url, json={"content": "x"}) as passed:
            assert passed.status == 200
    assert [m["content"] for m in emu.messages(channel)] == ["x"]


async def test_multipart_messages_read_payload_json(emu: DiscordEmulator) -> None:
    guild = emu.create_guild("g")
    channel = emu.create_channel(guild, "c")
    form = aiohttp.FormData()
    form.add_field("payload_json", json.dumps({"content": "with a file"}), content_type="application/json")
    form.add_field("files[0]", b"data", filename="a.txt", content_type="text/plain")
    url = f"{emu.api_base}/channels/{channel.id}/messages"
    async with aiohttp.ClientSession() as session, session.post(url, data=form) as response:
        assert response.status == 200
    assert emu.messages(channel)[0]["content"] == "with a file"
