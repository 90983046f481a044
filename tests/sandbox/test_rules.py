"""The emulator refuses what Discord refuses: members' options and clicks, the bot's payloads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.sandbox.emulator import DiscordEmulator
from bot.sandbox.model import Channel, Guild, Json, User
from bot.sandbox.rules import Refused

COMMANDS: list[Json] = [
    {
        "name": "papers",
        "description": "Papers",
        "options": [
            {
                "type": 1,
                "name": "search",
                "description": "Search",
                "options": [
                    {"type": 3, "name": "query", "description": "Words", "required": True, "max_length": 200},
                    {"type": 4, "name": "limit", "description": "How many", "min_value": 1, "max_value": 25},
                    {"type": 10, "name": "score", "description": "Least score", "min_value": 0.5},
                    {"type": 5, "name": "fuzzy", "description": "Typos"},
                ],
            },
            {
                "type": 1,
                "name": "show",
                "description": "Show",
                "options": [
                    {
                        "type": 3,
                        "name": "paper",
                        "description": "Title",
                        "required": True,
                        "autocomplete": True,
                    }
                ],
            },
        ],
    },
    {
        "name": "mode",
        "description": "Mode",
        "options": [
            {
                "type": 3,
                "name": "mode",
                "description": "How",
                "required": True,
                "choices": [{"name": "instant", "value": "instant"}, {"name": "daily", "value": "daily"}],
            },
            {"type": 7, "name": "channel", "description": "Where", "channel_types": [0]},
        ],
    },
]


class World:
    def __init__(self, emu: DiscordEmulator) -> None:
        self.emu = emu
        self.guild: Guild = emu.create_guild("g")
        self.channel: Channel = emu.create_channel(self.guild, "c")
        self.member: User = emu.add_member(self.guild, "m")

    async def call(self, method: str, path: str, body: Any) -> tuple[int, Json]:
        async with (
            aiohttp.ClientSession(headers=self.emu.auth_headers) as session,
            session.request(method, self.emu.api_base + path, json=body) as response,
        ):
            return response.status, await response.json()

    async def post(self, body: Json) -> tuple[int, Json]:
        return await self.call("POST", f"/channels/{self.channel.id}/messages", body)


def _option(n: int) -> Json:
    return {"label": f"Paper {n}", "value": f"2601.{n:05d}"}


def _menu(**fields: Any) -> Json:
    return {"type": 3, "custom_id": "save-menu", "options": [_option(1), _option(2)]} | fields


def _menu_row(**fields: Any) -> Json:
    return {"components": [{"type": 1, "components": [_menu(**fields)]}]}


@pytest.fixture
async def world() -> AsyncIterator[World]:
    emu = await DiscordEmulator().start()
    w = World(emu)
    status, _ = await w.call("PUT", f"/applications/{emu.application_id}/commands", COMMANDS)
    assert status == 200
    yield w
    await emu.stop()


@pytest.mark.parametrize(
    ("command", "options", "says"),
    [
        ("papers search", {}, "needs query"),
        ("papers search", {"query": "x", "limit": 0}, "between 1 and 25"),
        ("papers search", {"query": "x", "limit": 26}, "between 1 and 25"),
        ("papers search", {"query": "x", "limit": -5}, "between 1 and 25"),
        ("papers search", {"query": "x", "limit": "abc"}, "whole number"),
        ("papers search", {"query": "x", "limit": 2.5}, "whole number"),
        ("papers search", {"query": "x", "limit": True}, "whole number"),
        ("papers search", {"query": "x", "score": 0.1}, "between 0.5"),
        ("papers search", {"query": "x", "score": float("nan")}, "a number"),
        ("papers search", {"query": "x", "fuzzy": "yes"}, "true or false"),
        ("papers search", {"query": "x" * 201}, "0 to 200 characters"),
        ("papers search", {"query": "   "}, "cannot be empty"),
        ("papers search", {"query": 5}, "must be text"),
        ("papers search", {"query": "x", "colour": "red"}, "no option 'colour'"),
        ("mode", {"mode": "weekly"}, "one of: instant, daily"),
        ("mode", {"mode": "daily", "channel": "general"}, "must be a channel"),
    ],
)
async def test_members_cannot_send_what_discords_client_refuses(
    world: World, command: str, options: dict[str, Any], says: str
) -> None:
    with pytest.raises(Refused, match=says):
        await world.emu.slash(world.member, world.channel, command, **options)
    assert world.emu.interactions == {}  # nothing reached the bot


async def test_unknown_subcommands_are_named(world: World) -> None:
    with pytest.raises(LookupError, match="no subcommand 'find'"):
        await world.emu.slash(world.member, world.channel, "papers find", query="x")


async def test_autocomplete_answers_over_discords_limits_are_refused(world: World) -> None:
    emu = world.emu

    async def answer(choices: list[Json]) -> tuple[int, Json, list[tuple[str, str]]]:
        record = emu._interaction(4, world.member, world.channel, {"name": "papers"})
        record.option = COMMANDS[0]["options"][1]["options"][0]
        status, body = await world.call(
            "POST",
            f"/interactions/{record.id}/{record.token}/callback",
            {"type": 8, "data": {"choices": choices}},
        )
        return status, body, record.rejected

    fine = [{"name": "n" * 100, "value": "v" * 100}] * 25
    assert (await answer(fine))[0] == 200
    for bad in (
        [*fine, {"name": "one more", "value": "x"}],
        [{"name": "n" * 101, "value": "v"}],
        [{"name": "", "value": "v"}],
        [{"name": "n", "value": "v" * 101}],
        [{"name": "n", "value": 5}],
    ):
        status, body, rejected = await answer(bad)
        assert status == 400 and body["code"] == 50035 and rejected
    assert len(emu.rejections) == 5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"content": "x" * 2001}, "content"),
        ({"embeds": [{"title": "t"}] * 11}, "embeds"),
        ({"embeds": [{"title": "t" * 257}]}, "title"),
        ({"embeds": [{"description": "d" * 4097}]}, "description"),
        ({"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]}, "value"),
        ({"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}, "fields"),
        ({"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]}, "embeds"),
        (
            {
                "components": [
                    {"type": 1, "components": [{"type": 2, "style": 5, "label": "Code", "url": "x y"}]}
                ]
            },
            "url",
        ),
        (
            {
                "components": [
                    {
                        "type": 1,
                        "components": [
                            {"type": 2, "style": 5, "label": "Code", "url": "https://a", "custom_id": "c"}
                        ],
                    }
                ]
            },
            "custom_id",
        ),
        (
            {"components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "Next"}]}]},
            "custom_id",
        ),
        ({"components": [{"type": 1, "components": []}] * 6}, "components"),
        (
            {
                "components": [
                    {"type": 1, "components": [{"type": 2, "style": 2, "label": "Next", "custom_id": "p:2"}]},
                    {"type": 1, "components": [{"type": 2, "style": 2, "label": "Last", "custom_id": "p:2"}]},
                ]
            },
            "cannot be duplicated",
        ),
        (_menu_row(options=[_option(n) for n in range(26)]), "options"),
        (_menu_row(options=[]), "options"),
        (_menu_row(options=[_option(1) | {"label": "L" * 101}]), "label"),
        (
            _menu_row(options=[_option(1) | {"label": ""}]),
            "Must be between 1 and 100",
        ),  # a keyword blank once cleaned
        (_menu_row(options=[_option(1), _option(1)]), "options"),
        (_menu_row(max_values=3), "max_values"),
        (_menu_row(placeholder="P" * 151), "placeholder"),
        (
            {
                "components": [
                    {
                        "type": 1,
                        "components": [
                            _menu(),
                            {"type": 2, "style": 1, "label": "Next", "custom_id": "next"},
                        ],
                    }
                ]
            },
            "exceeds the maximum width",
        ),
    ],
)
async def test_messages_over_discords_limits_get_invalid_form_body(
    world: World, body: Json, field: str
) -> None:
    status, answer = await world.post(body)
    assert status == 400 and answer["code"] == 50035
    assert field in str(answer["errors"])
    assert world.emu.messages(world.channel) == []
    assert world.emu.rejections


async def test_messages_at_discords_limits_are_posted(world: World) -> None:
    status, _ = await world.post(
        {"content": "x" * 2000, "embeds": [{"title": "t" * 256, "description": "d" * 4096}]}
    )
    assert status == 200 and world.emu.rejections == []


@pytest.mark.parametrize(
    "commands",
    [
        [{"name": "Papers", "description": "d"}],
        [{"name": "papers", "description": "d" * 101}],
        [{"name": "p", "description": "d", "options": [{"type": 3, "name": "o", "description": "d"}] * 26}],
        [
            {
                "name": "p",
                "description": "d",
                "options": [
                    {"type": 3, "name": "a", "description": "d"},
                    {"type": 3, "name": "b", "description": "d", "required": True},
                ],
            }
        ],
        [
            {
                "name": "p",
                "description": "d",
                "options": [
                    {
                        "type": 3,
                        "name": "a",
                        "description": "d",
                        "choices": [{"name": str(i), "value": str(i)} for i in range(26)],
                    }
                ],
            }
        ],
    ],
)
async def test_command_lists_discord_refuses_are_refused(world: World, commands: list[Json]) -> None:
    status, answer = await world.call("PUT", f"/applications/{world.emu.application_id}/commands", commands)
    assert status == 400 and answer["code"] == 50035


def _buttons(*buttons: Json) -> Json:
    return {"components": [{"type": 1, "components": list(buttons)}]}


async def test_disabled_and_link_buttons_cannot_be_clicked(world: World) -> None:
    emu = world.emu
    _, message = await world.post(
        _buttons(
            {"type": 2, "style": 1, "label": "Next", "custom_id": "next"},
            {"type": 2, "style": 1, "label": "Back", "custom_id": "back", "disabled": True},
            {"type": 2, "style": 5, "label": "Code", "url": "https://github.com/x/y"},
        )
    )
    with pytest.raises(Refused, match="disabled"):
        await emu.click(world.member, message, "Back")
    with pytest.raises(Refused, match=r"opens https://github\.com/x/y"):
        await emu.click(world.member, message, "Code")
    with pytest.raises(LookupError, match="Next, Back, Code"):
        await emu.click(world.member, message, "Nope")
    # The message as it is now counts: once edited to disable Next, the old copy cannot click it.
    status, _ = await world.call(
        "PATCH",
        f"/channels/{world.channel.id}/messages/{message['id']}",
        _buttons({"type": 2, "style": 1, "label": "Next", "custom_id": "next", "disabled": True}),
    )
    assert status == 200
    with pytest.raises(Refused, match="disabled"):
        await emu.click(world.member, message, "Next")
    assert emu.interactions == {}


async def test_menu_picks_discords_client_would_not_send_are_refused(world: World) -> None:
    emu = world.emu
    _, message = await world.post(_menu_row(placeholder="Save a paper…"))
    with pytest.raises(Refused, match=r"has no option 'Paper 3' \(it has: Paper 1, Paper 2\)"):
        await emu.choose(world.member, message, "save-menu", ["Paper 3"])
    with pytest.raises(Refused, match="takes 1 option, not 2"):
        await emu.choose(world.member, message, "Save a paper…", ["Paper 1", "Paper 2"])
    with pytest.raises(LookupError, match=r"no select menu 'vote' on that message \(it has: Save a paper…\)"):
        await emu.choose(world.member, message, "vote", ["Paper 1"])
    with pytest.raises(LookupError, match=r"it has: no buttons; select menus: Save a paper…"):
        await emu.click(world.member, message, "Save")
    # The message as it is now counts: once edited to disable the menu, nothing can be picked.
    path = f"/channels/{world.channel.id}/messages/{message['id']}"
    status, _ = await world.call("PATCH", path, _menu_row(disabled=True))
    assert status == 200
    with pytest.raises(Refused, match="disabled"):
        await emu.choose(world.member, message, "save-menu", ["2601.00001"])
    assert emu.interactions == {}


async def _upload(world: World, files: list[tuple[str, bytes]]) -> tuple[int, Json]:
    form = aiohttp.FormData()
    form.add_field("payload_json", '{"content": "files"}', content_type="application/json")
    for n, (name, data) in enumerate(files):
        form.add_field(f"files[{n}]", data, filename=name, content_type="text/plain")
    url = f"{world.emu.api_base}/channels/{world.channel.id}/messages"
    async with (
        aiohttp.ClientSession(headers=world.emu.auth_headers) as session,
        session.post(url, data=form) as response,
    ):
        return response.status, await response.json()


async def test_uploaded_files_become_attachments_within_discords_limits(world: World) -> None:
    status, message = await _upload(world, [("library.bib", b"@misc{a,\n}\n")])
    assert status == 200
    [attachment] = message["attachments"]
    assert attachment["filename"] == "library.bib" and attachment["size"] == 11
    assert world.emu.attachment_bytes(attachment) == b"@misc{a,\n}\n"
    async with aiohttp.ClientSession() as session, session.get(attachment["url"]) as response:
        assert await response.read() == b"@misc{a,\n}\n"  # served where the message says
    status, answer = await _upload(world, [(f"f{n}.txt", b"x") for n in range(11)])
    assert status == 400 and "attachments" in str(answer["errors"])
    mebibyte = 1024 * 1024
    status, _ = await _upload(world, [("exactly-the-limit.txt", b"x" * 10 * mebibyte)])
    assert status == 200
    status, answer = await _upload(world, [("big.txt", b"x" * (10 * mebibyte + 1))])
    assert status == 413 and answer["code"] == 40005
    # The limit is for the message's files together, not each file.
    status, answer = await _upload(
        world, [("half.txt", b"x" * 6 * mebibyte), ("more.txt", b"x" * 6 * mebibyte)]
    )
    assert status == 413 and answer["code"] == 40005
    assert len(world.emu.messages(world.channel)) == 2
