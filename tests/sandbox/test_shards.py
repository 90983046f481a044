"""The emulator shards as Discord does: which session hears about which server, and which
IDENTIFYs it refuses (invalid shard, too many servers on one session, faster than max_concurrency)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sandbox.emulator import DiscordEmulator
from bot.sandbox.gateway import HEARTBEAT_ACK_DELAY
from bot.sandbox.model import Guild, snowflake
from bot.sandbox.shards import (
    INVALID_SHARD,
    SHARDING_REQUIRED,
    IdentifyLimiter,
    InvalidShard,
    guild_id_on_shard,
    parse_shard,
    shard_of,
)

Frame = dict[str, Any]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    emulator = await DiscordEmulator(max_concurrency=2).start()
    emulator.identify_limiter.clock = FakeClock()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def http(emu: DiscordEmulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=emu.auth_headers) as session:
        yield session


class Connection:
    """A raw gateway connection, as a bot's shard makes it."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse, token: str) -> None:
        self.socket = socket
        self.token = token

    async def frame(self) -> Frame | None:
        message = await self.socket.receive(timeout=5)
        return json.loads(message.data) if message.type == aiohttp.WSMsgType.TEXT else None

    async def identify(self, shard: object = None) -> Frame | None:
        data: Frame = {"token": self.token, "intents": 1, "properties": {}}
        if shard is not None:
            data["shard"] = shard
        await self.socket.send_json({"op": 2, "d": data})
        return await self.frame()

    async def events(self, count: int) -> list[Frame]:
        frames = []
        for _ in range(count):
            frame = await self.frame()
            assert frame is not None
            frames.append(frame)
        return frames


async def connect(emu: DiscordEmulator, http: aiohttp.ClientSession) -> Connection:
    connection = Connection(await http.ws_connect(emu.gateway_url), emu.token)
    hello = await connection.frame()
    assert hello is not None and hello["op"] == 10
    return connection


def servers(emu: DiscordEmulator, per_shard: int, shard_count: int) -> dict[int, list[Guild]]:
    placed: dict[int, list[Guild]] = {}
    for shard in range(shard_count):
        for n in range(per_shard):
            guild_id = guild_id_on_shard(shard, shard_count, near=snowflake())
            placed.setdefault(shard, []).append(emu.create_guild(f"s{shard}-{n}", guild_id=guild_id))
    return placed


@given(st.integers(0, 15), st.integers(1, 16))
def test_a_placed_server_lives_on_its_shard(shard: int, count: int) -> None:
    shard %= count
    assert shard_of(guild_id_on_shard(shard, count, near=snowflake()), count) == shard


@pytest.mark.parametrize("bad", [[2, 2], [-1, 2], [0, 0], [0], "0,1", [0.0, 1], [True, 2]])
def test_impossible_shards_are_refused(bad: object) -> None:
    with pytest.raises(InvalidShard):
        parse_shard(bad)


async def test_an_invalid_shard_closes_the_connection_with_4010(
    emu: DiscordEmulator, http: aiohttp.ClientSession
) -> None:
    connection = await connect(emu, http)
    assert await connection.identify([3, 2]) is None
    assert connection.socket.close_code == INVALID_SHARD
    assert emu.identify_count == 0


async def test_each_session_hears_only_of_its_shards_servers(
    emu: DiscordEmulator, http: aiohttp.ClientSession
) -> None:
    placed = servers(emu, per_shard=3, shard_count=2)
    shard0, shard1 = await connect(emu, http), await connect(emu, http)
    ready0, ready1 = await shard0.identify([0, 2]), await shard1.identify([1, 2])
    assert ready0 is not None and ready1 is not None
    assert ready0["d"]["shard"] == [0, 2] and ready1["d"]["shard"] == [1, 2]
    assert {g["id"] for g in ready0["d"]["guilds"]} == {str(g.id) for g in placed[0]}
    created0 = [f["d"]["id"] for f in await shard0.events(3)]
    created1 = [f["d"]["id"] for f in await shard1.events(3)]
    assert created0 == [str(g.id) for g in placed[0]]
    assert created1 == [str(g.id) for g in placed[1]]

    # A server added later is announced on its own shard only.
    late = emu.create_guild("late", guild_id=guild_id_on_shard(1, 2, near=snowflake()))
    [announced] = await shard1.events(1)
    assert (announced["t"], announced["d"]["id"]) == ("GUILD_CREATE", str(late.id))


async def test_interactions_go_to_the_owning_shard_and_dms_to_shard_0(
    emu: DiscordEmulator, http: aiohttp.ClientSession
) -> None:
    placed = servers(emu, per_shard=1, shard_count=2)
    emu.global_commands = [{"id": "1", "name": "ping", "type": 1, "options": []}]
    shard0, shard1 = await connect(emu, http), await connect(emu, http)
    await shard0.identify([0, 2])
    await shard1.identify([1, 2])
    await shard0.events(1)
    await shard1.events(1)
    member = emu.add_member(placed[1][0], "member")

    emu.send_slash(member, emu.create_channel(placed[1][0], "c"), "ping")
    created, interaction = await shard1.events(2)
    assert created["t"] == "CHANNEL_CREATE" and interaction["t"] == "INTERACTION_CREATE"
    assert interaction["d"]["guild_id"] == str(placed[1][0].id)
    emu.send_slash(member, emu.open_dm(member), "ping")
    emu.create_channel(placed[1][0], "after")
    # Shard 0's first event is the DM (it heard nothing of shard 1's server); shard 1's next is
    # its server's new channel (it never heard of the DM).
    [from_dm] = await shard0.events(1)
    assert from_dm["t"] == "INTERACTION_CREATE" and "guild_id" not in from_dm["d"]
    [after] = await shard1.events(1)
    assert (after["t"], after["d"]["name"]) == ("CHANNEL_CREATE", "after")


async def test_gateway_bot_recommends_shards_and_tells_max_concurrency(
    emu: DiscordEmulator, http: aiohttp.ClientSession
) -> None:
    for n in range(1001):
        emu.create_guild(f"g{n}")
    async with http.get(emu.api_base + "/gateway/bot") as response:
        answer = await response.json()
    assert answer["shards"] == 2  # Discord recommends one shard per 1,000 servers
    assert answer["session_start_limit"]["max_concurrency"] == 2
    assert answer["url"] == emu.gateway_url


async def test_a_session_with_more_than_2500_servers_is_told_to_shard(
    emu: DiscordEmulator, http: aiohttp.ClientSession
) -> None:
    for n in range(2501):
        emu.create_guild(f"g{n}", guild_id=guild_id_on_shard(0, 1, near=snowflake()))
    connection = await connect(emu, http)
    assert await connection.identify() is None
    assert connection.socket.close_code == SHARDING_REQUIRED


async def test_an_identify_faster_than_max_concurrency_is_answered_invalid_session(
    emu: DiscordEmulator, http: aiohttp.ClientSession
) -> None:
    clock = emu.identify_limiter.clock
    assert isinstance(clock, FakeClock)
    first, same_bucket, other_bucket = [await connect(emu, http) for _ in range(3)]
    assert (await first.identify([0, 4]) or {}).get("t") == "READY"
    # Shard 2 shares bucket 0 (2 % max_concurrency 2): within 5 s it is refused, as Discord does.
    assert await same_bucket.identify([2, 4]) == {"op": 9, "d": False}
    assert (await other_bucket.identify([1, 4]) or {}).get("t") == "READY"  # bucket 1: at once
    clock.now += 4.9
    assert await same_bucket.identify([2, 4]) == {"op": 9, "d": False}
    clock.now += 0.1
    assert (await same_bucket.identify([2, 4]) or {}).get("t") == "READY"
    assert (emu.identify_count, emu.identify_refused) == (3, 2)
    async with http.get(emu.api_base + "/gateway/bot") as response:
        assert (await response.json())["session_start_limit"]["remaining"] == 997


def test_the_limiter_counts_buckets_not_shards() -> None:
    clock = FakeClock()
    limiter = IdentifyLimiter(clock, max_concurrency=16)
    assert all(limiter.admit(shard) for shard in range(16))
    assert not limiter.admit(16)  # bucket 0 again
    clock.now += 5
    assert limiter.admit(16)


async def test_a_heartbeat_is_acknowledged_after_a_round_trip_as_discord_does(
    emu: DiscordEmulator, http: aiohttp.ClientSession
) -> None:
    """An ACK sent back at once over loopback beat discord.py's keep-alive thread to recording its
    send, and the sandbox logged "Can't keep up … 41.3s behind" on every run."""
    connection = await connect(emu, http)
    loop = asyncio.get_running_loop()
    sent = loop.time()
    await connection.socket.send_json({"op": 1, "d": None})
    assert await connection.frame() == {"op": 11}
    assert loop.time() - sent >= HEARTBEAT_ACK_DELAY
