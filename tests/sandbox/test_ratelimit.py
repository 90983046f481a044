"""The emulator's rate limits behave as Discord's: the global 50/s, per-route buckets, their headers,
the exemption of interaction responses, and a real discord.py client that obeys them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest

from bot.sandbox.emulator import DiscordEmulator
from bot.sandbox.ratelimit import RateLimits


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def post_message(channel: int) -> list[str]:
    return ["channels", str(channel), "messages"]


def limits(clock: FakeClock) -> RateLimits:
    return RateLimits(clock=clock, wall_clock=lambda: 1_700_000_000.0)


def test_the_51st_request_in_a_second_gets_a_global_429_with_retry_after() -> None:
    clock = FakeClock()
    rl = limits(clock)
    answers = [rl.check("POST", post_message(channel)) for channel in range(1, 52)]
    assert all(a.allowed for a in answers[:50])
    refused = answers[50]
    assert not refused.allowed and refused.is_global
    assert refused.body() == {"message": "You are being rate limited.", "retry_after": 1.0, "global": True}
    assert refused.headers["X-RateLimit-Global"] == "true"
    assert refused.headers["X-RateLimit-Scope"] == "global"
    assert refused.headers["Via"]  # from Discord's proxy: discord.py treats a 429 without it as a ban
    assert float(refused.headers["Retry-After"]) == refused.retry_after
    clock.now += 0.4
    assert rl.check("POST", post_message(99)).retry_after == pytest.approx(0.6)
    clock.now += 0.6
    assert rl.check("POST", post_message(99)).allowed  # a new second, a new allowance
    assert rl.global_429s == 2


def test_each_bot_token_has_its_own_global_allowance() -> None:
    rl = limits(FakeClock())
    for channel in range(50):
        assert rl.check("GET", ["channels", str(channel)], "Bot a").allowed
    assert not rl.check("GET", ["channels", "1"], "Bot a").allowed
    assert rl.check("GET", ["channels", "1"], "Bot b").allowed


def test_interaction_responses_are_exempt_from_the_global_limit() -> None:
    rl = limits(FakeClock())
    for channel in range(50):
        rl.check("GET", ["channels", str(channel)])
    assert not rl.check("GET", ["users", "@me"]).allowed
    for i in range(100):
        assert rl.check("POST", ["interactions", str(i), f"itoken-{i}", "callback"]).allowed
        assert rl.check("POST", ["webhooks", "7", f"itoken-{i}"]).allowed


def test_a_channel_takes_five_messages_per_five_seconds_and_the_headers_count_down() -> None:
    clock = FakeClock()
    rl = limits(clock)
    answers = [rl.check("POST", post_message(1)) for _ in range(5)]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["4", "3", "2", "1", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"5"}
    assert answers[-1].headers["X-RateLimit-Reset-After"] == "5.0"
    assert answers[-1].headers["X-RateLimit-Reset"] == "1700000005.000"
    clock.now += 2
    refused = rl.check("POST", post_message(1))
    assert not refused.allowed and not refused.is_global
    assert refused.body()["global"] is False
    assert refused.headers["X-RateLimit-Scope"] == "user"
    assert refused.retry_after == pytest.approx(3.0)
    assert rl.check("POST", post_message(2)).allowed  # another channel, another bucket
    clock.now += 3
    assert rl.check("POST", post_message(1)).headers["X-RateLimit-Remaining"] == "4"


def test_routes_share_a_bucket_hash_across_channels_but_not_across_routes() -> None:
    rl = limits(FakeClock())
    one = rl.check("POST", post_message(1)).headers["X-RateLimit-Bucket"]
    two = rl.check("POST", post_message(2)).headers["X-RateLimit-Bucket"]
    edit = rl.check("PATCH", ["channels", "1", "messages", "5"]).headers["X-RateLimit-Bucket"]
    assert one == two != edit


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    emulator = await DiscordEmulator().start()
    yield emulator
    await emulator.stop()


async def test_the_emulator_answers_429_over_the_limit_and_stays_consistent(emu: DiscordEmulator) -> None:
    guild = emu.create_guild("g")
    channel = emu.create_channel(guild, "c")
    url = f"{emu.api_base}/channels/{channel.id}/messages"
    async with aiohttp.ClientSession(headers=emu.auth_headers) as session:
        statuses = []
        for i in range(6):
            async with session.post(url, json={"content": str(i)}) as response:
                statuses.append(response.status)
                if response.status == 429:
                    body = await response.json()
                    assert body["global"] is False and body["retry_after"] > 0
    assert statuses == [200] * 5 + [429]
    # The refused one is not posted.
    assert [m["content"] for m in emu.messages(channel)] == ["0", "1", "2", "3", "4"]


async def test_discord_py_sends_everything_exactly_once_through_the_limits(
    emu: DiscordEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst over the global limit and a channel's bucket: discord.py waits as the headers and
    429s say, and every message arrives once."""
    guild = emu.create_guild("g")
    channels = [emu.create_channel(guild, f"c{i}") for i in range(60)]
    busy = channels[0]
    monkeypatch.setattr(discord.http.Route, "BASE", emu.api_base)
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    try:
        await http.static_login(emu.token)
        sends = [http.send_message(c.id, params=_params(f"to {c.name}")) for c in channels]
        sends += [http.send_message(busy.id, params=_params(f"extra {i}")) for i in range(6)]
        await asyncio.gather(*sends)
    finally:
        await http.close()
    assert emu.rate_limits is not None and emu.rate_limits.limited  # the limits were really hit
    for channel in channels[1:]:
        assert [m["content"] for m in emu.messages(channel)] == [f"to {channel.name}"]
    assert sorted(m["content"] for m in emu.messages(busy)) == sorted(
        ["to c0"] + [f"extra {i}" for i in range(6)]
    )


def _params(content: str) -> discord.http.MultipartParameters:
    return discord.http.handle_message_parameters(content=content)
