"""The emulator's REST routes (API v10): users, applications and commands, channels and messages,
threads, DMs, members, interaction callbacks and webhooks. Unknown routes answer 404 and are logged
in ``unknown_routes``; an id in a known route that is not a snowflake answers 400 (bot/sandbox/paths.py);
a server's commands are answered only for a server the application is in with the
applications.commands scope (else 403 Missing Access, 50001)."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from bot.sandbox.message_rules import EMPTY_MESSAGE, EMPTY_MESSAGE_CODE, is_empty, message_problems
from bot.sandbox.model import (
    EMBED_LINKS,
    EPHEMERAL,
    LOADING,
    RESPONSE_DEADLINE,
    SEND_MESSAGES,
    Channel,
    InteractionRecord,
    Json,
    Problems,
    User,
    now_iso,
    snowflake,
)
from bot.sandbox.paths import path_id_problems, with_ids_as_numbers
from bot.sandbox.ratelimit import route_shape
from bot.sandbox.rules import (
    ATTACHMENT_BYTES,
    ATTACHMENTS,
    autocomplete_problems,
    commands_problems,
    form_errors,
    thread_problems,
)
from bot.sandbox.shards import recommended_shards
from bot.sandbox.world import API, World

log = logging.getLogger(__name__)
FILES = "\0files"  # a request body's uploads, until they are stored (no JSON key looks like it)
ATTACHED = "\0attached"  # ... and once stored: the message's new attachments


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    data: bytes
    content_type: str


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Discord's exact content type: application/json, no charset.
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(body=json.dumps(data).encode(), status=status, headers=all_headers)


def error_response(status: int, message: str, code: int = 0) -> web.Response:
    return json_response({"message": message, "code": code}, status)


class Rest(World):
    # Discord checks enforce_nonce "in the past few minutes".
    nonce_window_seconds = 300.0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requests: list[tuple[str, str, Json | list[Any] | None]] = []
        self.unknown_routes: list[str] = []
        self.nonces: dict[tuple[int, str], tuple[float, Json]] = {}  # (author, nonce) -> (when, message)
        # Every request Discord would have answered 400 Invalid Form Body: (route, problems).
        self.rejections: list[tuple[str, Problems]] = []
        self.attachment_data: dict[str, bytes] = {}  # attachment id -> the uploaded bytes

    async def _body(self, request: web.Request) -> Any:
        """The JSON body; an upload's files (multipart ``files[n]`` parts) under ``FILES``."""
        if request.content_type.startswith("multipart/"):
            body: Json = {}
            files: list[Upload] = []
            async for part in await request.multipart():
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "payload_json":
                    body = json.loads(await part.text()) | body
                elif part.filename is not None:
                    content_type = part.headers.get("Content-Type", "application/octet-stream")
                    files.append(Upload(part.filename, bytes(await part.read()), content_type))
            if files:
                body[FILES] = files
            return body
        if request.can_read_body:
            return await request.json()
        return None

    def _store_files(self, files: list[Upload]) -> list[Json]:
        """The attachments of a message made from ``files``, as Discord lists them; the bytes stay
        here (``attachment_bytes``) and are served at the attachment's url."""
        stored = []
        for upload in files:
            attachment_id = str(snowflake())
            self.attachment_data[attachment_id] = upload.data
            stored.append(
                {
                    "id": attachment_id,
                    "filename": upload.filename,
                    "size": len(upload.data),
                    "url": f"http://{self.host}:{self.port}/attachments/{attachment_id}/{upload.filename}",
                    "proxy_url": f"http://{self.host}:{self.port}/attachments/{attachment_id}/{upload.filename}",
                    "content_type": upload.content_type,
                }
            )
        return stored

    def attachment_bytes(self, attachment: Json) -> bytes:
        """What was uploaded as ``attachment`` (one of a message's ``attachments``)."""
        return self.attachment_data[attachment["id"]]

    async def _attachment(self, request: web.Request) -> web.Response:
        data = self.attachment_data.get(request.match_info["id"])
        if data is None:
            return error_response(404, "404: Not Found")
        return web.Response(body=data, content_type="application/octet-stream")

    async def _route(self, request: web.Request) -> web.StreamResponse:
        path = request.path.removeprefix(API)
        body = await self._body(request) if request.method in ("POST", "PUT", "PATCH") else None
        self.requests.append((request.method, path, body))
        parts = path.strip("/").split("/")
        handler = ROUTES.get((request.method, route_shape(parts)))
        bad_ids = path_id_problems(parts)
        if bad_ids and (request.method, route_shape(with_ids_as_numbers(parts))) in ROUTES:
            self.rejections.append((f"{request.method} {path}", bad_ids))
            return json_response(form_errors(bad_ids), 400)
        if handler is None:
            self.unknown_routes.append(f"{request.method} {path}")
            log.warning("emulator: unknown route %s %s", request.method, path)
            return error_response(404, "404: Not Found")
        refusal = self._not_this_application(parts)
        if refusal is not None:
            status, message, code = refusal
            self.rejections.append((f"{request.method} {path}", [("application_id", message)]))
            return error_response(status, message, code)
        files: list[Upload] = body.pop(FILES, []) if isinstance(body, dict) else []
        if sum(len(upload.data) for upload in files) > ATTACHMENT_BYTES:
            self.rejections.append((f"{request.method} {path}", [("files", "Request entity too large")]))
            return error_response(413, "Request entity too large", 40005)
        problems = self._problems(request.method, route_shape(parts), parts, body)
        if len(files) > ATTACHMENTS:
            problems.append(("attachments", f"Must be {ATTACHMENTS} or fewer in length."))
        if problems:
            self.rejections.append((f"{request.method} {path}", problems))
            log.warning("emulator: Discord would refuse %s %s: %s", request.method, path, problems)
            return json_response(form_errors(problems), 400)
        if files and isinstance(body, dict):
            body[ATTACHED] = self._store_files(files)
        response: web.StreamResponse = await handler(self, request, parts, body)
        return response

    def _not_this_application(self, parts: list[str]) -> tuple[int, str, int] | None:
        """Discord's answer to another application's id in a route (a bot's token acts only for its
        own application): its commands are 403 20012, its interactions' webhooks unknown (10015)."""
        if len(parts) < 2 or parts[0] not in ("applications", "webhooks") or parts[1] == "@me":
            return None
        if parts[1] == str(self.application_id):
            return None
        if parts[0] == "webhooks":
            return 404, "Unknown Webhook", 10015
        return 403, "You are not authorized to perform this action on this application", 20012

    def _problems(self, method: str, shape: tuple[str, ...], parts: list[str], body: Any) -> Problems:
        """What Discord would refuse in this request's body (its limits are the spec)."""
        if shape[-1] == "commands" and method == "PUT":
            return commands_problems(body if isinstance(body, list) else [])
        if shape[-1] == "threads":
            return thread_problems(body if isinstance(body, dict) else {})
        if not isinstance(body, dict):
            return []
        if shape[0] == "interactions":
            record = self.interactions.get(parts[2])
            if record is None:
                return []
            kind, data = body.get("type"), body.get("data") or {}
            problems = (
                autocomplete_problems(data, record.option)
                if kind == 8
                else message_problems(data)
                if kind in (4, 7)
                else []
            )
            if problems:
                record.rejected = problems
                record.changed.set()
            return problems
        if shape[-1] in ("messages", "#", "@original") or shape[0] == "webhooks":
            return message_problems(body) if method in ("POST", "PATCH") else []
        return []

    def _refuse_empty(self, request: web.Request, record: InteractionRecord | None = None) -> web.Response:
        """Discord's answer to a message that would have nothing in it (noted like a 400 above)."""
        problems = [("message", EMPTY_MESSAGE)]
        self.rejections.append((f"{request.method} {request.path.removeprefix(API)}", problems))
        log.warning("emulator: Discord would refuse %s %s: an empty message", request.method, request.path)
        if record is not None:
            record.rejected = problems
            record.changed.set()
        return error_response(400, EMPTY_MESSAGE, EMPTY_MESSAGE_CODE)

    async def _me(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        return json_response(self.bot.payload())

    async def _application(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        return json_response(
            {
                "id": str(self.application_id),
                "name": "paperbot",
                "icon": None,
                "description": "",
                "rpc_origins": [],
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": self.owner.payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": 0,
                "summary": "",
                "interactions_endpoint_url": None,
                "bot": self.bot.payload(),
            }
        )

    async def _gateway_bot(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        limits = self.session_start_limit()
        shards = recommended_shards(len(self.guilds))
        return json_response({"url": self.gateway_url, "shards": shards, "session_start_limit": limits})

    def _store_commands(self, body: list[Json], guild_id: int | None) -> list[Json]:
        stored = []
        for command in body:
            stored.append(
                {
                    "id": str(snowflake()),
                    "application_id": str(self.application_id),
                    "version": str(snowflake()),
                    "type": command.get("type", 1),
                    "default_member_permissions": None,
                    "nsfw": False,
                    **command,
                    **({"guild_id": str(guild_id)} if guild_id else {}),
                }
            )
        if guild_id:
            self.guild_commands[guild_id] = stored
        else:
            self.global_commands = stored
        return stored

    async def _commands(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        guild_id = int(parts[3]) if "guilds" in parts else None
        guild = self.guilds.get(guild_id) if guild_id is not None else None
        if guild_id is not None and (guild is None or not guild.commands_scope):
            # A server the application is not in, or that did not grant applications.commands.
            return error_response(403, "Missing Access", 50001)
        if request.method == "PUT":
            return json_response(self._store_commands(body or [], guild_id))
        return json_response(self.guild_commands.get(guild_id, []) if guild_id else self.global_commands)

    def _message(self, channel: Channel, body: Json, *, author: User | None = None, flags: int = 0) -> Json:
        message = {
            "id": str(snowflake()),
            "channel_id": str(channel.id),
            "author": (author or self.bot).payload(),
            "content": body.get("content") or "",
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": body.get(ATTACHED) or [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": flags | int(body.get("flags") or 0),
            "allowed_mentions": body.get("allowed_mentions"),
        }
        if channel.guild_id:
            message["guild_id"] = str(channel.guild_id)
        channel.messages.append(message)
        return message

    def say(self, user: User, channel: Channel, content: str) -> Json:
        """``user`` posts ``content`` in ``channel`` (a busy channel; the bot asks for no message
        events, so none is dispatched)."""
        return self._message(channel, {"content": content}, author=user)

    def _nonced(self, channel: Channel, nonce: str) -> Json | None:
        seen = self.nonces.get((self.bot.id, nonce))
        if seen is None:
            return None
        at, message = seen
        if asyncio.get_running_loop().time() - at > self.nonce_window_seconds:
            del self.nonces[(self.bot.id, nonce)]
            return None
        return message

    def _channel(self, channel_id: str) -> Channel | None:
        return self.channels.get(int(channel_id)) if channel_id.isdigit() else None

    async def _channel_messages(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        channel = self._channel(parts[1])
        if channel is None:
            return error_response(404, "Unknown Channel", 10003)
        if request.method == "POST":
            if channel.bot_denied & (SEND_MESSAGES | EMBED_LINKS):
                return error_response(403, "Missing Permissions", 50013)
            body = body or {}
            if is_empty(_posted(body)):
                return self._refuse_empty(request)
            nonce = body.get("nonce")
            if nonce is not None and body.get("enforce_nonce"):
                # As Discord: the same author and nonce within the window returns the message
                # created the first time instead of creating another.
                existing = self._nonced(channel, str(nonce))
                if existing is not None:
                    return json_response(existing)
            message = self._message(channel, body)
            if nonce is not None:
                message["nonce"] = nonce
                self.nonces[(self.bot.id, str(nonce))] = (asyncio.get_running_loop().time(), message)
            return json_response(message)
        return json_response(_history_page(channel.messages, request.query))

    async def _edit_message(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        channel = self._channel(parts[1])
        message = next((m for m in channel.messages if m["id"] == parts[3]), None) if channel else None
        if message is None:
            return error_response(404, "Unknown Message", 10008)
        if is_empty(_edited(message, body or {})):
            return self._refuse_empty(request)
        _apply_edit(message, body or {})
        message["edited_timestamp"] = now_iso()
        return json_response(message)

    async def _get_channel(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        channel = self._channel(parts[1])
        return json_response(channel.payload()) if channel else error_response(404, "Unknown Channel", 10003)

    async def _thread(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        parent = self._channel(parts[1])
        if parent is None:
            return error_response(404, "Unknown Channel", 10003)
        if not any(m["id"] == parts[3] for m in parent.messages):
            return error_response(404, "Unknown Message", 10008)
        if int(parts[3]) in self.channels:  # a thread takes its message's id: one per message
            return error_response(400, "A thread has already been created for this message", 160004)
        name = (body or {}).get("name")
        thread = Channel(int(parts[3]), 11, name=name, guild_id=parent.guild_id, parent_id=parent.id)
        self.channels[thread.id] = thread
        return json_response(thread.payload())

    async def _open_dm(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        user = self.users.get(int((body or {}).get("recipient_id", 0)))
        if user is None:
            return error_response(404, "Unknown User", 10013)
        return json_response(self.open_dm(user).payload())

    async def _user(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        user = self.users.get(int(parts[1])) if parts[1].isdigit() else None
        return json_response(user.payload()) if user else error_response(404, "Unknown User", 10013)

    async def _member(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        guild = self.guilds.get(int(parts[1]))
        if guild is None:
            # Discord's answer about a server the bot is not in (one that removed it, say).
            return error_response(403, "Missing Access", 50001)
        member = guild.members.get(int(parts[3]))
        return (
            json_response(member.payload(guild.id))
            if member
            else error_response(404, "Unknown Member", 10007)
        )

    async def _callback(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        record = self.interactions.get(parts[2])
        if record is None or record.callback_type is not None:
            return error_response(400, "Interaction has already been acknowledged.", 40060)
        if asyncio.get_running_loop().time() - record.created > RESPONSE_DEADLINE:
            record.late = True
            return error_response(404, "Unknown interaction", 10062)
        kind, data = body["type"], body.get("data") or {}
        if ATTACHED in body:  # files go beside the payload's "data"
            data = data | {ATTACHED: body[ATTACHED]}
        target = self._component_message(record) if kind == 7 else None
        if (kind == 4 and is_empty(_posted(data))) or (
            target is not None and is_empty(_edited(target, data))
        ):
            return self._refuse_empty(request, record)
        record.callback_type = kind
        resource: Json = {"type": kind}
        if kind in (4, 5):
            flags = int(data.get("flags") or 0) | (LOADING if kind == 5 else 0)
            record.response = self._message(record.channel, data, flags=flags)
            resource["message"] = record.response
        elif kind == 7 and target is not None:  # update the message the component was on
            _apply_edit(target, data)
            record.response = target
            resource["message"] = target
        elif kind == 8:
            record.response = data
        record.changed.set()
        interaction = {
            "id": str(record.id),
            "type": record.type,
            "response_message_id": (record.response or {}).get("id"),
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL),
        }
        return json_response({"interaction": interaction, "resource": resource})

    def _component_message(self, record: InteractionRecord) -> Json | None:
        return next(
            (m for c in self.channels.values() for m in c.messages if m["id"] == record.message_id),
            None,
        )

    async def _followup(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        record = self.interactions.get(parts[2])
        if record is None:
            return error_response(404, "Unknown Webhook", 10015)
        if is_empty(_posted(body or {})):
            return self._refuse_empty(request)
        original = record.response
        if record.callback_type == 5 and original is not None and original.get("flags", 0) & LOADING:
            # The first follow-up after a deferral fills the "thinking" message.
            _apply_edit(original, body or {})
            original["flags"] = original["flags"] & ~LOADING
            record.followups.append(original)
            return json_response(original)
        message = self._message(record.channel, body or {})
        record.followups.append(message)
        return json_response(message)

    async def _webhook_message(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        record = self.interactions.get(parts[2])
        if record is None or record.response is None:
            return error_response(404, "Unknown Message", 10008)
        target = (
            record.response
            if parts[4] == "@original"
            else next((m for m in record.followups if m["id"] == parts[4]), None)
        )
        if target is None:
            return error_response(404, "Unknown Message", 10008)
        if request.method == "PATCH":
            # The "thinking" message of a deferral is empty until this edit fills it.
            if is_empty(_edited(target, body or {})):
                return self._refuse_empty(request)
            _apply_edit(target, body or {})
            target["flags"] = target.get("flags", 0) & ~LOADING
            target["edited_timestamp"] = now_iso()
        return json_response(target)


def _history_page(messages: list[Json], query: Any) -> list[Json]:
    """GET /channels/{id}/messages as Discord pages it: at most ``limit`` (1-100, default 50),
    newest first; ``before``: the newest ones older than it; ``after``: the oldest ones newer
    than it; ``around``: those around it."""
    limit = max(1, min(100, int(query.get("limit", "50"))))
    ordered = sorted(messages, key=lambda m: int(m["id"]))
    if "around" in query:
        pivot = int(query["around"])
        older = [m for m in ordered if int(m["id"]) <= pivot][-(limit // 2 + 1) :]
        newer = [m for m in ordered if int(m["id"]) > pivot][: limit - len(older)]
        return list(reversed(older + newer))
    if "before" in query:
        ordered = [m for m in ordered if int(m["id"]) < int(query["before"])]
    if "after" in query:
        ordered = [m for m in ordered if int(m["id"]) > int(query["after"])]
        return list(reversed(ordered[:limit]))
    return list(reversed(ordered[-limit:]))


def _posted(body: Json) -> Json:
    """What a new message made from ``body`` would hold (its files become attachments)."""
    return body | {"attachments": body.get(ATTACHED) or []}


def _edited(message: Json, body: Json) -> Json:
    """What ``message`` would hold after the edit ``body`` (``message`` itself is unchanged)."""
    copy = dict(message)
    _apply_edit(copy, body)
    return copy


def _apply_edit(message: Json, body: Json) -> None:
    """An edit changes only what it names (content, embeds, components, attachments): its
    ``attachments`` list the ones to keep (by id), and its files are added."""
    message.update({key: value for key, value in body.items() if key in ("content", "embeds", "components")})
    if "attachments" in body:
        keep = {str(a.get("id")) for a in body["attachments"]}
        message["attachments"] = [a for a in message.get("attachments", []) if a["id"] in keep]
    message["attachments"] = message.get("attachments", []) + body.get(ATTACHED, [])


ROUTES: dict[tuple[str, tuple[str, ...]], Any] = {
    ("GET", ("users", "@me")): Rest._me,
    ("GET", ("oauth2", "applications", "@me")): Rest._application,
    ("GET", ("gateway", "bot")): Rest._gateway_bot,
    ("GET", ("applications", "#", "commands")): Rest._commands,
    ("PUT", ("applications", "#", "commands")): Rest._commands,
    ("GET", ("applications", "#", "guilds", "#", "commands")): Rest._commands,
    ("PUT", ("applications", "#", "guilds", "#", "commands")): Rest._commands,
    ("GET", ("channels", "#", "messages")): Rest._channel_messages,
    ("POST", ("channels", "#", "messages")): Rest._channel_messages,
    ("PATCH", ("channels", "#", "messages", "#")): Rest._edit_message,
    ("GET", ("channels", "#")): Rest._get_channel,
    ("POST", ("channels", "#", "messages", "#", "threads")): Rest._thread,
    ("POST", ("users", "@me", "channels")): Rest._open_dm,
    ("GET", ("users", "#")): Rest._user,
    ("GET", ("guilds", "#", "members", "#")): Rest._member,
    ("POST", ("interactions", "#", "#", "callback")): Rest._callback,
    ("POST", ("webhooks", "#", "#")): Rest._followup,
    ("GET", ("webhooks", "#", "#", "messages", "#")): Rest._webhook_message,
    ("PATCH", ("webhooks", "#", "#", "messages", "#")): Rest._webhook_message,
    ("GET", ("webhooks", "#", "#", "messages", "@original")): Rest._webhook_message,
    ("PATCH", ("webhooks", "#", "#", "messages", "@original")): Rest._webhook_message,
}
