"""A server's commands are synced only where Discord would take them: 403 Missing Access for a server
the application is not in (or that did not grant applications.commands), 400 for an id that is not a
snowflake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.sandbox.emulator import DiscordEmulator
from bot.sandbox.paths import ID_NAMES, NOT_IDS, SNOWFLAKE_MAX, is_snowflake, path_id_problems

COMMANDS = [{"name": "papers", "description": "Find papers", "type": 1}]


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    emulator = await DiscordEmulator().start()
    yield emulator
    await emulator.stop()


async def call(emu: DiscordEmulator, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession(headers=emu.auth_headers) as session,
        session.request(method, emu.api_base + path, json=body) as response,
    ):
        return response.status, await response.json()


def guild_commands(emu: DiscordEmulator, guild_id: object) -> str:
    return f"/applications/{emu.application_id}/guilds/{guild_id}/commands"


@pytest.mark.parametrize("method", ["PUT", "GET"])
async def test_a_server_the_bot_is_not_in_is_missing_access(emu: DiscordEmulator, method: str) -> None:
    status, body = await call(emu, method, guild_commands(emu, 1234567890123), COMMANDS)
    assert (status, body) == (403, {"message": "Missing Access", "code": 50001})
    assert emu.guild_commands == {}


async def test_a_server_without_the_commands_scope_is_missing_access(emu: DiscordEmulator) -> None:
    guild = emu.create_guild("invited with the bot scope only", commands_scope=False)
    status, body = await call(emu, "PUT", guild_commands(emu, guild.id), COMMANDS)
    assert (status, body["code"]) == (403, 50001)
    assert guild.id not in emu.guild_commands


async def test_a_server_the_bot_is_in_takes_its_commands(emu: DiscordEmulator) -> None:
    guild = emu.create_guild("lab")
    status, body = await call(emu, "PUT", guild_commands(emu, guild.id), COMMANDS)
    assert status == 200 and [c["name"] for c in body] == ["papers"]
    assert [c["guild_id"] for c in emu.guild_commands[guild.id]] == [str(guild.id)]


@pytest.mark.parametrize("bad", ["abc", "-1", "1e5", str(SNOWFLAKE_MAX + 1), "１２３", "12 3"])
async def test_a_server_id_that_is_not_a_snowflake_is_invalid_form_body(
    emu: DiscordEmulator, bad: str
) -> None:
    status, body = await call(emu, "PUT", guild_commands(emu, bad), COMMANDS)
    assert status == 400 and body["code"] == 50035 and body["message"] == "Invalid Form Body"
    assert body["errors"] == {
        "guild_id": {
            "_errors": [{"code": "NUMBER_TYPE_COERCE", "message": f'Value "{bad}" is not snowflake.'}]
        }
    }
    assert emu.guild_commands == {} and emu.unknown_routes == []


async def test_other_routes_name_their_bad_id_and_unknown_routes_stay_404(emu: DiscordEmulator) -> None:
    status, body = await call(emu, "GET", "/channels/general")
    assert status == 400 and list(body["errors"]) == ["channel_id"]
    status, body = await call(emu, "GET", "/users/@me")
    assert status == 200
    status, _ = await call(emu, "GET", "/guilds/abc/emojis")  # no such route at all
    assert status == 404 and emu.unknown_routes == ["GET /guilds/abc/emojis"]


@given(st.integers(0, SNOWFLAKE_MAX))
def test_every_64_bit_id_is_a_snowflake(n: int) -> None:
    assert is_snowflake(str(n)) and path_id_problems(["guilds", str(n), "commands"]) == []


# What a route's id place could hold that a plain text strategy seldom draws: the collection names
# the path walk looks for, the words Discord takes for an id, and numbers just inside and outside
# a snowflake in every digit form Python's isdigit() accepts.
ID_LOOKALIKES = [
    *ID_NAMES, *NOT_IDS, "@ME", "me", "0", "00", "-0", "+1", " 1", "1 ", "1_000", "1e3", "0x1f",
    str(SNOWFLAKE_MAX), str(SNOWFLAKE_MAX + 1), "0" + str(SNOWFLAKE_MAX), "１２３", "٣", "²", "𝟙",
]  # fmt: skip
ID_TEXTS = (st.sampled_from(ID_LOOKALIKES) | st.text(min_size=1, max_size=30)).filter(lambda t: "/" not in t)


@given(ID_TEXTS)
@example("commands")  # an id that spells a collection is still one id, and the part after it none
@example("guilds")
def test_an_id_that_is_not_a_whole_number_is_named(text: str) -> None:
    problems = path_id_problems(["channels", text, "messages"])
    expected = (text.isascii() and text.isdigit() and int(text) <= SNOWFLAKE_MAX) or text in (
        "@me",
        "@original",
    )
    assert problems == ([] if expected else [("channel_id", f'Value "{text}" is not snowflake.')])


OTHER_APPLICATION = 1456074443980800999  # a well-formed id that is not the bot's application


@pytest.mark.parametrize(
    "path",
    [
        f"/applications/{OTHER_APPLICATION}/commands",
        f"/applications/{OTHER_APPLICATION}/guilds/{{guild}}/commands",
    ],
)
@pytest.mark.parametrize("method", ["PUT", "GET"])
async def test_another_applications_commands_are_not_the_bots_to_touch(
    emu: DiscordEmulator, method: str, path: str
) -> None:
    """As Discord: the bot's token acts for its own application only (403, 20012)."""
    guild = emu.create_guild("lab")
    status, body = await call(emu, method, path.format(guild=guild.id), COMMANDS)
    assert (status, body["code"]) == (403, 20012)
    assert emu.global_commands == [] and emu.guild_commands == {}
    assert [r[1][0][0] for r in emu.rejections] == ["application_id"]


async def test_an_interaction_token_under_another_applications_id_is_an_unknown_webhook(
    emu: DiscordEmulator,
) -> None:
    """A follow-up is the application's webhook: the interaction's own token under another id is
    unknown to Discord, and nothing is posted."""
    guild = emu.create_guild("lab")
    channel = emu.create_channel(guild, "papers")
    record = emu._interaction(2, emu.add_member(guild, "alice"), channel, {"name": "papers"})
    status, body = await call(emu, "POST", f"/webhooks/{OTHER_APPLICATION}/{record.token}", {"content": "hi"})
    assert (status, body["code"]) == (404, 10015)
    assert record.followups == []
    status, _ = await call(emu, "POST", f"/webhooks/{emu.application_id}/{record.token}", {"content": "hi"})
    assert status == 200 and len(record.followups) == 1


# Parts of real routes that are neither a collection nor an id (/interactions/{id}/{token}/callback).
ROUTE_WORDS = ["callback", "reactions", "pins", "threads", "typing", "bulk-delete", "permissions"]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(list(ID_NAMES)), ID_TEXTS, st.lists(st.sampled_from(ROUTE_WORDS), max_size=2)
        ),
        min_size=1,
        max_size=4,
    )
)
def test_each_id_of_a_longer_path_is_judged_once_by_its_own_collection(
    steps: list[tuple[str, str, list[str]]],
) -> None:
    # Built collection by collection, so the expected problems never depend on walking the path.
    parts: list[str] = []
    expected = []
    for collection, id_text, route_words in steps:
        parts += [collection, id_text, *route_words]
        if id_text not in NOT_IDS and not is_snowflake(id_text):
            expected.append((ID_NAMES[collection], f'Value "{id_text}" is not snowflake.'))
    assert path_id_problems(parts) == expected


async def test_a_member_of_a_server_the_bot_is_not_in_is_missing_access(emu: DiscordEmulator) -> None:
    """As Discord answers GET /guilds/{id}/members/{user} once the server removed the bot: 403,
    not the 404 Unknown Member of a server the bot is in."""
    guild = emu.create_guild("lab")
    member = emu.add_member(guild, "alice")
    assert (await call(emu, "GET", f"/guilds/1234567890123/members/{member.id}"))[0] == 403
    assert (await call(emu, "GET", f"/guilds/{guild.id}/members/1234567890123"))[0] == 404
    assert (await call(emu, "GET", f"/guilds/{guild.id}/members/{member.id}"))[0] == 200
