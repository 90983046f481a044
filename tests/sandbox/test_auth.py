"""The emulator answers only the bot's token, as Discord: 401 on REST, 4004 on the gateway."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.sandbox.auth import AUTHENTICATION_FAILED
from bot.sandbox.emulator import DiscordEmulator

TOKEN = "the-bots-own-token"


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    emulator = await DiscordEmulator(token=TOKEN).start()
    yield emulator
    await emulator.stop()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bot another-token"},
        {"Authorization": TOKEN},  # no "Bot " prefix: a user token's form
        {"Authorization": f"Bearer {TOKEN}"},
        {"Authorization": f"bot {TOKEN}"},
        {"Authorization": "Bot "},
    ],
    ids=["none", "wrong", "bare", "bearer", "lowercase", "empty"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users/@me"),
        ("GET", "/gateway/bot"),
        ("PUT", "/applications/1/commands"),
        ("GET", "/channels/1"),
    ],
)
async def test_a_wrong_or_malformed_token_is_answered_401_and_changes_nothing(
    emu: DiscordEmulator, headers: dict[str, str], method: str, path: str
) -> None:
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.request(method, emu.api_base + path, json=[{"name": "x", "description": "y"}]) as response,
    ):
        assert response.status == 401
        assert await response.json() == {"message": "401: Unauthorized", "code": 0}
    assert emu.global_commands == [] and emu.unauthorized == 1


async def test_the_bots_token_is_answered(emu: DiscordEmulator) -> None:
    async with (
        aiohttp.ClientSession(headers=emu.auth_headers) as session,
        session.get(emu.api_base + "/users/@me") as response,
    ):
        assert response.status == 200 and (await response.json())["id"] == str(emu.bot.id)
    assert emu.auth_headers == {"Authorization": f"Bot {TOKEN}"}


async def test_a_reset_token_refuses_the_old_one(emu: DiscordEmulator) -> None:
    old = emu.auth_headers
    emu.reset_token("a-new-token")
    async with aiohttp.ClientSession() as session:
        async with session.get(emu.api_base + "/users/@me", headers=old) as refused:
            assert refused.status == 401
        async with session.get(emu.api_base + "/users/@me", headers=emu.auth_headers) as answered:
            assert answered.status == 200


async def test_interaction_callbacks_and_followups_need_no_header(emu: DiscordEmulator) -> None:
    """Their token is in the path; discord.py sends them without Authorization."""
    guild = emu.create_guild("g")
    channel = emu.create_channel(guild, "c")
    record = emu._interaction(2, emu.add_member(guild, "m"), channel, {"name": "papers"})
    base = f"{emu.api_base}/interactions/{record.id}/{record.token}/callback"
    followup = f"{emu.api_base}/webhooks/{emu.application_id}/{record.token}"
    async with aiohttp.ClientSession() as session:
        async with session.post(base, json={"type": 4, "data": {"content": "hi"}}) as answered:
            assert answered.status == 200
        async with session.post(followup, json={"content": "more"}) as followed:
            assert followed.status == 200
    assert [m["content"] for m in emu.messages(channel)] == ["hi", "more"]


async def _hello(emu: DiscordEmulator, session: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
    socket = await session.ws_connect(emu.gateway_url)
    hello = await socket.receive(timeout=5)
    assert json.loads(hello.data)["op"] == 10
    return socket


@pytest.mark.parametrize("op", [2, 6], ids=["identify", "resume"])
async def test_the_gateway_closes_4004_on_a_wrong_token(emu: DiscordEmulator, op: int) -> None:
    data = {"token": "another-token", "intents": 1, "properties": {}, "session_id": "s", "seq": 0}
    async with aiohttp.ClientSession() as session:
        socket = await _hello(emu, session)
        await socket.send_json({"op": op, "d": data})
        closed = await socket.receive(timeout=5)
        assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert socket.close_code == AUTHENTICATION_FAILED
    assert emu.identify_count == 0 and not emu.identified.is_set()


async def test_the_gateway_answers_the_bots_token_with_ready(emu: DiscordEmulator) -> None:
    async with aiohttp.ClientSession() as session:
        socket = await _hello(emu, session)
        await socket.send_json({"op": 2, "d": {"token": TOKEN, "intents": 1, "properties": {}}})
        ready = json.loads((await socket.receive(timeout=5)).data)
        assert ready["t"] == "READY"
        await socket.close()
