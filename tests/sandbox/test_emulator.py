"""The emulator's own contract: Discord's content type, rate-limit headers, 429s, multipart, 404s."""

from __future__ import annotations

import asyncio
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
    async with (
        aiohttp.ClientSession(headers=emu.auth_headers) as session,
        session.get(emu.api_base + "/users/@me") as response,
    ):
        assert response.headers["Content-Type"] == "application/json"  # no charset, as Discord
        assert response.headers["X-RateLimit-Bucket"] and response.headers["X-RateLimit-Remaining"]
        assert (await response.json())["bot"] is True


async def test_unknown_routes_answer_404_and_are_logged(emu: DiscordEmulator) -> None:
    async with (
        aiohttp.ClientSession(headers=emu.auth_headers) as session,
        session.post(emu.api_base + "/guilds/1/emojis", json={}) as response,
    ):
        assert response.status == 404
    assert emu.unknown_routes == ["POST /guilds/1/emojis"]


async def test_429s_on_demand_carry_retry_after(emu: DiscordEmulator) -> None:
    guild = emu.create_guild("g")
    channel = emu.create_channel(guild, "c")
    emu.inject("POST", "/channels/*/messages", status=429, times=1, retry_after=0.25)
    url = f"{emu.api_base}/channels/{channel.id}/messages"
    async with aiohttp.ClientSession(headers=emu.auth_headers) as session:
        async with session.post(url, json={"content": "x"}) as limited:
            assert limited.status == 429
            assert limited.headers["Retry-After"] == "0.25"
            # A 429 without Via is what Discord's Cloudflare answers to a banned address: discord.py
            # raises on it instead of waiting, so an injected burst would test another path.
            assert limited.headers["Via"] == "1.1 google"
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
    async with (
        aiohttp.ClientSession(headers=emu.auth_headers) as session,
        session.post(url, data=form) as response,
    ):
        assert response.status == 200
    assert emu.messages(channel)[0]["content"] == "with a file"


async def test_an_enforced_nonce_returns_the_first_message_instead_of_a_second(emu: DiscordEmulator) -> None:
    """As Discord: the same nonce with enforce_nonce within the window is one message."""
    channel = emu.create_channel(emu.create_guild("g"), "c")
    url = f"{emu.api_base}/channels/{channel.id}/messages"
    async with aiohttp.ClientSession(headers=emu.auth_headers) as session:
        async with session.post(url, json={"content": "a", "nonce": "d1", "enforce_nonce": True}) as first:
            sent = await first.json()
        async with session.post(url, json={"content": "a", "nonce": "d1", "enforce_nonce": True}) as again:
            assert (await again.json())["id"] == sent["id"]
        async with session.post(url, json={"content": "b", "nonce": "d1"}) as unenforced:
            assert (await unenforced.json())["id"] != sent["id"]  # without enforce_nonce: a new one
        async with session.post(url, json={"content": "c", "nonce": "x" * 26, "enforce_nonce": True}) as long:
            assert long.status == 400  # nonces are at most 25 characters
    assert [m["content"] for m in emu.messages(channel)] == ["a", "b"]
    assert sent["nonce"] == "d1"


async def test_history_pages_like_discord() -> None:
    emu = await DiscordEmulator(rate_limited=False).start()  # 250 posts at once: no 429s wanted here
    channel = emu.create_channel(emu.create_guild("g"), "c")
    url = f"{emu.api_base}/channels/{channel.id}/messages"
    async with aiohttp.ClientSession(headers=emu.auth_headers) as session:
        for n in range(250):
            async with session.post(url, json={"content": str(n)}):
                pass
        ids = [int(m["id"]) for m in emu.messages(channel)]
        async with session.get(url, params={"limit": "100"}) as newest:
            assert [m["content"] for m in await newest.json()][:2] == ["249", "248"]
        async with session.get(url, params={"limit": "100", "before": str(ids[50])}) as older:
            assert [m["content"] for m in await older.json()] == [str(n) for n in range(49, -1, -1)]
        async with session.get(url, params={"limit": "3", "after": str(ids[10])}) as after:
            assert [m["content"] for m in await after.json()] == ["13", "12", "11"]  # the oldest after it
        async with session.get(url) as default:
            assert len(await default.json()) == 50
    await emu.stop()


async def test_a_hanging_answer_still_creates_the_message(emu: DiscordEmulator) -> None:
    """hang: Discord did the work but the answer is lost (what the bot sees as a timeout)."""
    channel = emu.create_channel(emu.create_guild("g"), "c")
    url = f"{emu.api_base}/channels/{channel.id}/messages"
    emu.inject("POST", "/channels/*/messages", status=0, hang=True, skip=1)
    async with aiohttp.ClientSession(headers=emu.auth_headers) as session:
        async with session.post(url, json={"content": "first"}) as first:
            assert first.status == 200
        with pytest.raises(TimeoutError):
            async with session.post(url, json={"content": "second"}, timeout=aiohttp.ClientTimeout(total=1)):
                pass
    await emu.wait_for(lambda: len(emu.messages(channel)) == 2)


async def test_a_fault_on_the_kth_message_of_one_channel_or_dm_leaves_the_others_alone(
    emu: DiscordEmulator,
) -> None:
    """fail_message: the k-th message in that channel (or DM) fails as told; others go through."""
    guild = emu.create_guild("g")
    target, other = emu.create_channel(guild, "target"), emu.create_channel(guild, "other")
    alice = emu.add_member(guild, "alice")
    dm = emu.open_dm(alice)
    refused = emu.fail_message(target, at=2, status=403, code=50013)
    closed = emu.fail_message(dm, at=1, status=403, code=50007, persist=True)

    async def post(channel_id: int, text: str) -> tuple[int, int]:
        url = f"{emu.api_base}/channels/{channel_id}/messages"
        async with session.post(url, json={"content": text}) as response:
            return response.status, (await response.json()).get("code", 0)

    async with aiohttp.ClientSession(headers=emu.auth_headers) as session:
        assert await post(other.id, "o1") == (200, 0)
        assert await post(target.id, "t1") == (200, 0)
        assert await post(target.id, "t2") == (403, 50013)  # the second message there
        assert await post(target.id, "t2 again") == (200, 0)  # once only
        assert await post(dm.id, "d1") == (403, 50007)
        assert await post(dm.id, "d1 again") == (403, 50007)  # persists...
        closed.clear()
        assert await post(dm.id, "d1 at last") == (200, 0)  # ...until cleared
    assert (refused.hits, closed.hits) == (1, 2)
    assert [m["content"] for m in emu.messages(target)] == ["t1", "t2 again"]
    assert [m["content"] for m in emu.dms(alice)] == ["d1 at last"]


async def test_a_held_back_answer_comes_late_once_the_fault_is_cleared(emu: DiscordEmulator) -> None:
    channel = emu.create_channel(emu.create_guild("g"), "c")
    held = emu.fail_message(channel, at=1, hang=True)
    url = f"{emu.api_base}/channels/{channel.id}/messages"
    async with aiohttp.ClientSession(headers=emu.auth_headers) as session:
        answer = asyncio.ensure_future(session.post(url, json={"content": "late"}))
        await emu.wait_for(lambda: held.hits == 1)  # created, its answer held back
        assert [m["content"] for m in emu.messages(channel)] == ["late"] and not answer.done()
        held.clear()
        async with await answer as response:
            assert response.status == 200 and (await response.json())["content"] == "late"
