"""The emulator answers what Discord refuses as Discord does (status, JSON code, message, field
path): empty messages, malformed URLs, thread names and second threads, component and mention
shapes, embed parts and the 6,000 characters of a message's embeds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.sandbox.emulator import DiscordEmulator
from bot.sandbox.model import Json
from tests.sandbox.test_rules import World

EMPTY = {"message": "Cannot send an empty message", "code": 50006}


class Api(World):
    async def thread(self, message_id: str, body: Json) -> tuple[int, Json]:
        return await self.call("POST", f"/channels/{self.channel.id}/messages/{message_id}/threads", body)


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    emu = await DiscordEmulator().start()
    yield Api(emu)
    await emu.stop()


def _errors_at(answer: Json, path: str) -> list[Json]:
    node = answer["errors"]
    for key in path.split("."):
        node = node[key]
    errors: list[Json] = node["_errors"]
    return errors


def _row(*items: Json) -> Json:
    return {"type": 1, "components": list(items)}


def _button(n: int = 0, **fields: Any) -> Json:
    return {"type": 2, "style": 1, "label": f"B{n}", "custom_id": f"b:{n}"} | fields


def _link(url: str) -> Json:
    return {"type": 2, "style": 5, "label": "Open", "url": url}


@pytest.mark.parametrize(
    "body",
    [{}, {"content": ""}, {"content": "  \n "}, {"content": None, "embeds": [], "components": []}],
)
async def test_an_empty_message_is_refused_as_discord_does(api: Api, body: Json) -> None:
    status, answer = await api.post(body)
    assert (status, answer) == (400, EMPTY)
    assert api.emu.messages(api.channel) == []
    assert api.emu.rejections  # an e2e run that sends one fails


async def test_a_message_of_only_buttons_is_not_empty(api: Api) -> None:
    status, _ = await api.post({"components": [_row(_button())]})
    assert status == 200


async def test_an_edit_that_would_leave_a_message_empty_is_refused(api: Api) -> None:
    _, message = await api.post({"content": "hello"})
    path = f"/channels/{api.channel.id}/messages/{message['id']}"
    assert await api.call("PATCH", path, {"content": ""}) == (400, EMPTY)
    assert api.emu.messages(api.channel)[0]["content"] == "hello"
    status, edited = await api.call("PATCH", path, {"content": "", "embeds": [{"title": "t"}]})
    assert status == 200 and edited["embeds"] == [{"title": "t"}]


async def test_an_empty_interaction_answer_is_refused_and_the_member_sees_it(api: Api) -> None:
    record = api.emu._interaction(2, api.member, api.channel, {"name": "papers"})
    path = f"/interactions/{record.id}/{record.token}/callback"
    assert await api.call("POST", path, {"type": 4, "data": {"content": " "}}) == (400, EMPTY)
    assert record.rejected and record.response is None
    status, _ = await api.call("POST", path, {"type": 5})  # a deferral has nothing to show yet
    assert status == 200
    followup = f"/webhooks/{api.emu.application_id}/{record.token}"
    assert await api.call("POST", followup, {"content": ""}) == (400, EMPTY)
    original = f"{followup}/messages/@original"
    assert await api.call("PATCH", original, {"embeds": []}) == (400, EMPTY)


@pytest.mark.parametrize(
    ("embed", "path", "code"),
    [
        ({"title": "t", "url": "arxiv.org/abs/2601.00001"}, "url", "URL_TYPE_INVALID_URL"),
        ({"title": "t", "url": "https://"}, "url", "URL_TYPE_INVALID_URL"),
        ({"title": "t", "url": "https://arxiv.org/abs/2601 00001"}, "url", "URL_TYPE_INVALID_URL"),
        ({"title": "t", "url": "https://arxiv.org:x/"}, "url", "URL_TYPE_INVALID_URL"),
        ({"title": "t", "url": "ftp://arxiv.org/x"}, "url", "URL_TYPE_INVALID_SCHEME"),
        ({"title": "t", "url": "https://a.org/" + "x" * 2048}, "url", "BASE_TYPE_MAX_LENGTH"),
        (
            {"title": "t", "thumbnail": {"url": "javascript:alert(1)"}},
            "thumbnail.url",
            "URL_TYPE_INVALID_SCHEME",
        ),
        ({"title": "t", "image": {"url": ""}}, "image.url", "URL_TYPE_INVALID_URL"),
        ({"author": {"name": "a", "url": "www.x.org"}}, "author.url", "URL_TYPE_INVALID_URL"),
        (
            {"footer": {"text": "f", "icon_url": "file:///etc/passwd"}},
            "footer.icon_url",
            "URL_TYPE_INVALID_SCHEME",
        ),
    ],
)
async def test_embed_urls_that_are_not_http_addresses_are_refused(
    api: Api, embed: Json, path: str, code: str
) -> None:
    status, answer = await api.post({"embeds": [embed]})
    assert status == 400 and answer["code"] == 50035 and answer["message"] == "Invalid Form Body"
    assert [e["code"] for e in _errors_at(answer, f"embeds.0.{path}")] == [code]
    assert api.emu.messages(api.channel) == []


async def test_well_formed_embed_urls_and_uploads_are_accepted(api: Api) -> None:
    embed = {
        "title": "t",
        "url": "https://arxiv.org/abs/2601.00001?v=2#top",
        "thumbnail": {"url": "attachment://cover.png"},
        "author": {"name": "a", "url": "http://127.0.0.1:8080/a", "icon_url": "https://x.org/i.png"},
    }
    status, _ = await api.post({"embeds": [embed]})
    assert status == 200 and api.emu.rejections == []


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("x y", "URL_TYPE_INVALID_URL"),
        ("https://", "URL_TYPE_INVALID_URL"),
        ("ftp://arxiv.org/x", "URL_TYPE_INVALID_SCHEME"),
        ("https://arxiv.org/" + "x" * 500, "BASE_TYPE_MAX_LENGTH"),  # a link button's url: 512
    ],
)
async def test_link_buttons_need_a_well_formed_url(api: Api, url: str, code: str) -> None:
    status, answer = await api.post({"components": [_row(_link(url))]})
    assert status == 400
    assert [e["code"] for e in _errors_at(answer, "components.0.components.0.url")] == [code]


async def test_thread_names_must_be_1_to_100_characters(api: Api) -> None:
    _, message = await api.post({"content": "digest"})
    for name in ("", "n" * 101):
        status, answer = await api.thread(message["id"], {"name": name})
        assert status == 400 and answer["code"] == 50035
        assert _errors_at(answer, "name") == [
            {"code": "BASE_TYPE_BAD_LENGTH", "message": "Must be between 1 and 100 in length."}
        ]
    status, answer = await api.thread(message["id"], {"name": "n", "auto_archive_duration": 30})
    assert status == 400 and _errors_at(answer, "auto_archive_duration")[0]["code"] == "BASE_TYPE_CHOICES"
    status, thread = await api.thread(message["id"], {"name": "n" * 100, "auto_archive_duration": 1440})
    assert status == 200 and thread["id"] == message["id"]


async def test_a_second_thread_on_a_message_is_refused(api: Api) -> None:
    _, message = await api.post({"content": "digest"})
    assert (await api.thread(message["id"], {"name": "first"}))[0] == 200
    status, answer = await api.thread(message["id"], {"name": "second"})
    assert (status, answer) == (
        400,
        {"message": "A thread has already been created for this message", "code": 160004},
    )
    assert api.emu.channels[int(message["id"])].name == "first"


async def test_a_thread_on_a_message_that_does_not_exist_is_refused(api: Api) -> None:
    status, answer = await api.thread("1234", {"name": "n"})
    assert (status, answer) == (404, {"message": "Unknown Message", "code": 10008})


@pytest.mark.parametrize(
    ("components", "path", "code"),
    [
        ([_row(_button(custom_id="c" * 101))], "components.0.components.0.custom_id", "BASE_TYPE_BAD_LENGTH"),
        ([_row(_button(label="L" * 81))], "components.0.components.0.label", "BASE_TYPE_MAX_LENGTH"),
        ([_row(*(_button(n) for n in range(6)))], "components.0.components", "BASE_TYPE_BAD_LENGTH"),
        ([_row()], "components.0.components", "BASE_TYPE_BAD_LENGTH"),
        ([_row(_button(n)) for n in range(6)], "components", "BASE_TYPE_MAX_LENGTH"),
        (
            [
                _row(
                    {
                        "type": 3,
                        "custom_id": "m",
                        "options": [{"label": str(n), "value": str(n)} for n in range(26)],
                    }
                )
            ],
            "components.0.components.0.options",
            "BASE_TYPE_BAD_LENGTH",
        ),
        (
            [_row({"type": 3, "custom_id": "m", "options": [{"label": "x" * 101, "value": "v"}]})],
            "components.0.components.0.options.0.label",
            "BASE_TYPE_BAD_LENGTH",
        ),
    ],
)
async def test_component_shapes_discord_refuses(
    api: Api, components: list[Json], path: str, code: str
) -> None:
    status, answer = await api.post({"content": "c", "components": components})
    assert status == 400 and [e["code"] for e in _errors_at(answer, path)] == [code]


@pytest.mark.parametrize(
    ("allowed", "path", "code"),
    [
        (
            {"parse": ["users"], "users": ["1"]},
            "allowed_mentions",
            "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
        ),
        (
            {"parse": ["roles"], "roles": ["1"]},
            "allowed_mentions",
            "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
        ),
        ({"parse": ["channels"]}, "allowed_mentions.parse.0", "BASE_TYPE_CHOICES"),
        ({"users": [str(n) for n in range(101)]}, "allowed_mentions.users", "BASE_TYPE_MAX_LENGTH"),
        ({"roles": ["1", "1"]}, "allowed_mentions.roles.1", "SET_TYPE_ALREADY_CONTAINS_VALUE"),
    ],
)
async def test_allowed_mentions_of_a_shape_discord_refuses(
    api: Api, allowed: Json, path: str, code: str
) -> None:
    status, answer = await api.post({"content": "c", "allowed_mentions": allowed})
    assert status == 400 and [e["code"] for e in _errors_at(answer, path)] == [code]


async def test_no_mentions_at_all_is_a_shape_discord_accepts(api: Api) -> None:
    # What AllowedMentions.none() sends.
    status, _ = await api.post(
        {"content": "@everyone", "allowed_mentions": {"parse": [], "replied_user": False}}
    )
    assert status == 200


@pytest.mark.parametrize(
    ("embed", "path", "code"),
    [
        ({"footer": {"text": "f" * 2049}}, "footer.text", "BASE_TYPE_MAX_LENGTH"),
        ({"footer": {"icon_url": "https://x.org/i.png"}}, "footer.text", "BASE_TYPE_REQUIRED"),
        ({"author": {"name": "a" * 257}}, "author.name", "BASE_TYPE_MAX_LENGTH"),
        ({"fields": [{"name": "n" * 257, "value": "v"}]}, "fields.0.name", "BASE_TYPE_MAX_LENGTH"),
        ({"fields": [{"name": "  ", "value": "v"}]}, "fields.0.name", "BASE_TYPE_REQUIRED"),
        ({"fields": [{"name": "n", "value": ""}]}, "fields.0.value", "BASE_TYPE_REQUIRED"),
        ({"title": "t", "color": 0x1000000}, "color", "NUMBER_TYPE_MAX"),
    ],
)
async def test_embed_parts_over_discords_limits(api: Api, embed: Json, path: str, code: str) -> None:
    status, answer = await api.post({"embeds": [embed]})
    assert status == 400 and [e["code"] for e in _errors_at(answer, f"embeds.0.{path}")] == [code]


def _embed_of(size: int) -> Json:
    """An embed whose counted texts total ``size``, spread over every part Discord counts, with
    a URL and colour that count nothing."""
    parts = {"title": 200, "footer": 1000, "author": 200, "name": 200, "value": 1000}
    description = size - sum(parts.values())
    return {
        "title": "t" * 200,
        "description": "d" * description,
        "url": "https://arxiv.org/abs/2601.00001",
        "color": 0xFFFFFF,
        "footer": {"text": "f" * 1000},
        "author": {"name": "a" * 200},
        "fields": [{"name": "n" * 200, "value": "v" * 1000}],
    }


async def test_the_6000_characters_are_counted_over_all_embeds_as_discord_counts(api: Api) -> None:
    full = [_embed_of(3000), _embed_of(3000)]
    assert (await api.post({"embeds": full}))[0] == 200
    status, answer = await api.post({"embeds": [_embed_of(3000), _embed_of(3001)]})
    assert status == 400
    assert _errors_at(answer, "embeds") == [
        {"code": "MAX_EMBED_SIZE_EXCEEDED", "message": "Embed size exceeds maximum size of 6000"}
    ]
    # Discord counts code points (its API is Python): an emoji is one, not two UTF-16 units.
    status, _ = await api.post({"embeds": [{"title": "\N{GRINNING FACE}" * 256}]})
    assert status == 200
