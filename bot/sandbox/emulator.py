"""A loopback Discord: enough of REST v10 and the gateway for discord.py 2.7 to run a real bot.

Bound to 127.0.0.1. Tests (and the sandbox) drive it through a small Python API: create guilds,
channels and members, run ``slash``/``autocomplete``/``click`` as a member, wait for messages and
DMs, and inject failures (HTTP errors, 429 bursts, gateway disconnects). Routes it does not know
answer 404 and are logged in ``unknown_routes``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import WSMsgType, web

from bot.sandbox.model import (
    EMBED_LINKS,
    EPHEMERAL,
    LOADING,
    MANAGE_GUILD,
    MEMBER_DEFAULT,
    SEND_MESSAGES,
    Channel,
    Guild,
    Json,
    Member,
    User,
    now_iso,
    snowflake,
)

log = logging.getLogger(__name__)
API = "/api/v10"
HEARTBEAT_MS = 41250
RESPONSE_DEADLINE = 3.0  # seconds Discord gives a bot to answer (or defer) an interaction
OPTION_TYPES = {"sub_command": 1, "group": 2}


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Discord's exact content type: application/json, no charset.
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(body=json.dumps(data).encode(), status=status, headers=all_headers)


def _error(status: int, message: str, code: int = 0) -> web.Response:
    return _json({"message": message, "code": code}, status)


@dataclass
class Fault:
    method: str
    path: str
    status: int
    code: int = 0
    times: int | None = 1
    retry_after: float = 0.2


@dataclass
class InteractionRecord:
    """One interaction the emulator sent and everything the bot answered to it."""

    id: int
    token: str
    type: int
    channel: Channel
    user: User
    message_id: str | None = None  # the message a clicked component was on
    created: float = field(default_factory=lambda: asyncio.get_running_loop().time())
    late: bool = False  # answered after Discord's 3 s: refused, as Discord does
    callback_type: int | None = None
    response: Json | None = None  # the original response message (or autocomplete data)
    followups: list[Json] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def ephemeral(self) -> bool:
        return bool(self.response and self.response.get("flags", 0) & EPHEMERAL)

    @property
    def choices(self) -> list[Json]:
        return list((self.response or {}).get("choices", []))

    def done(self) -> bool:
        if self.callback_type is None:
            return False
        if self.callback_type == 5:  # deferred: done once something replaced the loading state
            return bool(self.followups) or not (self.response or {}).get("flags", 0) & LOADING
        return True


class DiscordEmulator:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.bot = User(snowflake(), "paperbot", bot=True)
        self.application_id = snowflake()
        self.owner = User(snowflake(), "owner")
        self.users: dict[int, User] = {self.bot.id: self.bot, self.owner.id: self.owner}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.global_commands: list[Json] = []
        self.guild_commands: dict[int, list[Json]] = {}
        self.interactions: dict[str, InteractionRecord] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, Json | list[Any] | None]] = []
        self.unknown_routes: list[str] = []
        self.identified = asyncio.Event()
        self.resumed_count = 0
        self.identify_count = 0
        self.tokens_seen: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._sessions: dict[str, list[Json]] = {}  # session id -> dispatched events (for RESUME)
        self._seq: dict[str, int] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._pending: set[asyncio.Future[None]] = set()

    # ---- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> DiscordEmulator:
        app = web.Application(middlewares=[self._middleware], client_max_size=8 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API + "/{tail:.*}", self._route)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://{self.host}:{self.port}{API}"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    # ---- the world (builders) --------------------------------------------------------------------

    def create_guild(self, name: str) -> Guild:
        guild = Guild(snowflake(), name, self.owner.id)
        guild.members[self.owner.id] = Member(self.owner, MEMBER_DEFAULT | MANAGE_GUILD)
        self.guilds[guild.id] = guild
        if self._sockets:
            self.dispatch("GUILD_CREATE", guild.payload(self.bot))
        return guild

    def create_channel(self, guild: Guild, name: str, *, bot_denied: int = 0) -> Channel:
        """A text channel; ``bot_denied`` takes permissions from the bot there (e.g. SEND_MESSAGES)."""
        channel = Channel(snowflake(), 0, name=name, guild_id=guild.id, bot_denied=bot_denied)
        channel.bot_role_id = guild.bot_role_id
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        if self._sockets:
            self.dispatch("CHANNEL_CREATE", channel.payload())
        return channel

    def add_member(self, guild: Guild, name: str, *, manage_server: bool = False) -> User:
        user = User(snowflake(), name)
        self.users[user.id] = user
        guild.members[user.id] = Member(user, MEMBER_DEFAULT | (MANAGE_GUILD if manage_server else 0))
        return user

    def open_dm(self, user: User) -> Channel:
        """The DM channel between ``user`` and the bot (made if needed)."""
        channel = self.dm_channel(user)
        if channel is None:
            channel = Channel(snowflake(), 1, recipient=user)
            self.channels[channel.id] = channel
        return channel

    def messages(self, channel: Channel) -> list[Json]:
        return [m for m in channel.messages if not m.get("flags", 0) & EPHEMERAL]

    def dm_channel(self, user: User) -> Channel | None:
        return next((c for c in self.channels.values() if c.type == 1 and c.recipient is user), None)

    def dms(self, user: User) -> list[Json]:
        channel = self.dm_channel(user)
        return list(channel.messages) if channel else []

    def inject(
        self,
        method: str,
        path: str,
        *,
        status: int,
        code: int = 0,
        times: int | None = 1,
        retry_after: float = 0.2,
    ) -> None:
        """Make matching REST calls fail (``path`` is an fnmatch pattern below /api/v10)."""
        self.faults.append(Fault(method.upper(), path, status, code, times, retry_after))

    async def disconnect_gateway(self, code: int = 4000) -> None:
        """Drop the bot's gateway connection with a resumable close code."""
        for socket in list(self._sockets):
            await socket.close(code=code, message=b"emulated disconnect")

    async def wait_for(self, predicate: Callable[[], object], wait: float = 10.0) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked on every change in the world)."""
        async with self._changed:
            result = predicate()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + wait
            while not result:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError("the emulator waited in vain")
                with contextlib.suppress(TimeoutError):  # re-check once more, then give up
                    await asyncio.wait_for(self._changed.wait(), remaining)
                result = predicate()
            return result

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ---- members acting --------------------------------------------------------------------------

    def _command(self, guild: Guild | None, name: str) -> Json:
        pool = self.guild_commands.get(guild.id, []) + self.global_commands if guild else self.global_commands
        for command in pool:
            if command["name"] == name:
                return command
        raise LookupError(f"/{name} is not synced: run `paperbot sync` (or sync from the test) first")

    def _options(
        self, definition: Json, path: list[str], values: Json, focused: str | None
    ) -> tuple[Json, Json]:
        """Interaction option tree for ``/command sub ... opt=value``, plus resolved channels."""
        resolved: Json = {}
        options = definition.get("options", [])
        if path:
            sub = next(o for o in options if o["name"] == path[0])
            inner, inner_resolved = self._options(sub, path[1:], values, focused)
            resolved.update(inner_resolved)
            return {"options": [{"type": sub["type"], "name": sub["name"], **inner}]}, resolved
        out = []
        for option in options:
            if option["name"] not in values:
                continue
            value = values[option["name"]]
            if isinstance(value, Channel):
                channels = resolved.setdefault("channels", {})
                channels[str(value.id)] = value.payload() | {"permissions": str((1 << 50) - 1)}
                value = str(value.id)
            entry = {"type": option["type"], "name": option["name"], "value": value}
            if option["name"] == focused:
                entry["focused"] = True
            out.append(entry)
        return {"options": out}, resolved

    def _interaction(
        self, kind: int, user: User, channel: Channel, data: Json, message: Json | None = None
    ) -> InteractionRecord:
        record = InteractionRecord(snowflake(), f"itoken-{snowflake()}", kind, channel, user)
        record.message_id = message["id"] if message else None
        self.interactions[record.token] = record
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        payload: Json = {
            "id": str(record.id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "channel_id": str(channel.id),
            "channel": channel.payload(),
            "token": record.token,
            "version": 1,
            "locale": "en-US",
            "app_permissions": str((1 << 50) - 1),
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id) if guild else "0"},
            "context": 0 if guild else 1,
            "attachment_size_limit": 10_000_000,
        }
        if guild is not None:
            payload["guild_id"] = str(guild.id)
            payload["guild_locale"] = "en-US"
            member = guild.members.get(user.id) or Member(user, MEMBER_DEFAULT)
            payload["member"] = member.payload(guild.id)
        else:
            payload["user"] = user.payload()
        if message is not None:
            payload["message"] = message
        self.dispatch("INTERACTION_CREATE", payload)
        return record

    async def slash(
        self, user: User, channel: Channel, command: str, /, wait: float = 10.0, **options: Any
    ) -> InteractionRecord:
        name, *path = command.split()
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        definition = self._command(guild, name)
        tree, resolved = self._options(definition, path, options, None)
        data = {"id": definition["id"], "name": name, "type": 1, **tree}
        if resolved:
            data["resolved"] = resolved
        record = self._interaction(2, user, channel, data)
        await self.wait_for(record.done, wait)
        return record

    async def autocomplete(
        self,
        user: User,
        channel: Channel,
        command: str,
        option: str,
        typed: str,
        wait: float = 3.0,
        **filled: Any,
    ) -> list[Json]:
        name, *path = command.split()
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        definition = self._command(guild, name)
        tree, _ = self._options(definition, path, {**filled, option: typed}, option)
        record = self._interaction(
            4, user, channel, {"id": definition["id"], "name": name, "type": 1, **tree}
        )
        await self.wait_for(record.done, wait)
        return record.choices

    async def click(self, user: User, message: Json, label: str, wait: float = 10.0) -> InteractionRecord:
        button = next(
            c
            for row in message.get("components", [])
            for c in row.get("components", [])
            if c.get("label") == label
        )
        channel = self.channels[int(message["channel_id"])]
        data = {"custom_id": button["custom_id"], "component_type": 2}
        record = self._interaction(3, user, channel, data, message=message)
        await self.wait_for(record.done, wait)
        return record

    # ---- gateway --------------------------------------------------------------------------------

    def dispatch(self, event: str, data: Json) -> None:
        for socket in list(self._sockets):
            session = getattr(socket, "session_id", None)
            if session is None:
                continue
            self._seq[session] += 1
            frame = {"op": 0, "t": event, "s": self._seq[session], "d": data}
            self._sessions[session].append(frame)
            task = asyncio.ensure_future(self._send(socket, frame))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    @staticmethod
    async def _send(socket: web.WebSocketResponse, frame: Json) -> None:
        if not socket.closed:
            await socket.send_str(json.dumps(frame))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.append(socket)
        try:
            await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}}))
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(message.data)
                await self._gateway_op(socket, frame)
        finally:
            if socket in self._sockets:
                self._sockets.remove(socket)
        return socket

    async def _gateway_op(self, socket: web.WebSocketResponse, frame: Json) -> None:
        op, data = frame.get("op"), frame.get("d") or {}
        if op == 1:  # heartbeat
            await socket.send_str(json.dumps({"op": 11}))
        elif op == 2:  # identify
            self.tokens_seen.add(str(data.get("token")))
            self.identify_count += 1
            session = f"session-{snowflake()}"
            socket.session_id = session  # type: ignore[attr-defined]
            self._sessions[session], self._seq[session] = [], 0
            self.dispatch(
                "READY",
                {
                    "v": 10,
                    "user": self.bot.payload(),
                    "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
                    "session_id": session,
                    "resume_gateway_url": self.gateway_url,
                    "application": {"id": str(self.application_id), "flags": 0},
                    "private_channels": [],
                    "relationships": [],
                },
            )
            for guild in self.guilds.values():
                self.dispatch("GUILD_CREATE", guild.payload(self.bot))
            self.identified.set()
        elif op == 6:  # resume: replay what the bot missed
            session, seq = str(data.get("session_id")), int(data.get("seq") or 0)
            if session not in self._sessions:
                await socket.send_str(json.dumps({"op": 9, "d": False}))
                return
            socket.session_id = session  # type: ignore[attr-defined]
            for missed in [f for f in self._sessions[session] if f["s"] > seq]:
                await socket.send_str(json.dumps(missed))
            self.resumed_count += 1
            self.dispatch("RESUMED", {})
        await self._notify()

    # ---- REST -----------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path.removeprefix(API)
        for fault in self.faults:
            matches = fault.method in (request.method, "*") and fnmatch.fnmatch(path, fault.path)
            if fault.times != 0 and matches:
                if fault.times is not None:
                    fault.times -= 1
                if fault.status == 429:
                    return _json(
                        {"message": "Rate limited.", "retry_after": fault.retry_after, "global": False},
                        429,
                        {"Retry-After": str(fault.retry_after), "X-RateLimit-Scope": "user"},
                    )
                return _error(fault.status, "injected by the emulator", fault.code)
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bot "):
            self.tokens_seen.add(auth[4:])
        response: web.StreamResponse = await handler(request)
        response.headers.update(
            {
                "X-RateLimit-Limit": "50",
                "X-RateLimit-Remaining": "49",
                "X-RateLimit-Reset-After": "1.0",
                "X-RateLimit-Bucket": "emulated",
            }
        )
        await self._notify()
        return response

    async def _body(self, request: web.Request) -> Any:
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if getattr(part, "name", None) == "payload_json":
                    return json.loads(await part.text())  # type: ignore[union-attr]
            return {}
        if request.can_read_body:
            return await request.json()
        return None

    async def _route(self, request: web.Request) -> web.StreamResponse:
        path = request.path.removeprefix(API)
        body = await self._body(request) if request.method in ("POST", "PUT", "PATCH") else None
        self.requests.append((request.method, path, body))
        parts = path.strip("/").split("/")
        handler = self._ROUTES.get((request.method, _shape(parts)))
        if handler is None:
            self.unknown_routes.append(f"{request.method} {path}")
            log.warning("emulator: unknown route %s %s", request.method, path)
            return _error(404, "404: Not Found")
        response: web.StreamResponse = await handler(self, request, parts, body)
        return response

    async def _me(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        return _json(self.bot.payload())

    async def _application(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        return _json(
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
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

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
        if request.method == "PUT":
            return _json(self._store_commands(body or [], guild_id))
        return _json(self.guild_commands.get(guild_id, []) if guild_id else self.global_commands)

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
            "attachments": [],
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

    def _channel(self, channel_id: str) -> Channel | None:
        return self.channels.get(int(channel_id)) if channel_id.isdigit() else None

    async def _channel_messages(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        channel = self._channel(parts[1])
        if channel is None:
            return _error(404, "Unknown Channel", 10003)
        if request.method == "POST":
            if channel.bot_denied & (SEND_MESSAGES | EMBED_LINKS):
                return _error(403, "Missing Permissions", 50013)
            return _json(self._message(channel, body or {}))
        limit = int(request.query.get("limit", "50"))
        return _json(list(reversed(channel.messages))[:limit])

    async def _edit_message(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        channel = self._channel(parts[1])
        message = next((m for m in channel.messages if m["id"] == parts[3]), None) if channel else None
        if message is None:
            return _error(404, "Unknown Message", 10008)
        _apply_edit(message, body or {})
        message["edited_timestamp"] = now_iso()
        return _json(message)

    async def _get_channel(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        channel = self._channel(parts[1])
        return _json(channel.payload()) if channel else _error(404, "Unknown Channel", 10003)

    async def _thread(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        parent = self._channel(parts[1])
        if parent is None:
            return _error(404, "Unknown Channel", 10003)
        name = (body or {}).get("name")
        thread = Channel(int(parts[3]), 11, name=name, guild_id=parent.guild_id, parent_id=parent.id)
        self.channels[thread.id] = thread
        return _json(thread.payload())

    async def _open_dm(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        user = self.users.get(int((body or {}).get("recipient_id", 0)))
        if user is None:
            return _error(404, "Unknown User", 10013)
        return _json(self.open_dm(user).payload())

    async def _user(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        user = self.users.get(int(parts[1])) if parts[1].isdigit() else None
        return _json(user.payload()) if user else _error(404, "Unknown User", 10013)

    async def _member(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        guild = self.guilds.get(int(parts[1]))
        member = guild.members.get(int(parts[3])) if guild else None
        return _json(member.payload(guild.id)) if guild and member else _error(404, "Unknown Member", 10007)

    async def _callback(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        record = self.interactions.get(parts[2])
        if record is None or record.callback_type is not None:
            return _error(400, "Interaction has already been acknowledged.", 40060)
        if asyncio.get_running_loop().time() - record.created > RESPONSE_DEADLINE:
            record.late = True
            return _error(404, "Unknown interaction", 10062)
        kind, data = body["type"], body.get("data") or {}
        record.callback_type = kind
        resource: Json = {"type": kind}
        if kind in (4, 5):
            flags = int(data.get("flags") or 0) | (LOADING if kind == 5 else 0)
            record.response = self._message(record.channel, data, flags=flags)
            resource["message"] = record.response
        elif kind == 7:  # update the message the component was on
            message = next(
                (m for c in self.channels.values() for m in c.messages if m["id"] == record.message_id),
                None,
            )
            if message is not None:
                _apply_edit(message, data)
                record.response = message
                resource["message"] = message
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
        return _json({"interaction": interaction, "resource": resource})

    async def _followup(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        record = self.interactions.get(parts[2])
        if record is None:
            return _error(404, "Unknown Webhook", 10015)
        original = record.response
        if record.callback_type == 5 and original is not None and original.get("flags", 0) & LOADING:
            # The first follow-up after a deferral fills the "thinking" message.
            _apply_edit(original, body or {})
            original["flags"] = original["flags"] & ~LOADING
            record.followups.append(original)
            return _json(original)
        message = self._message(record.channel, body or {})
        record.followups.append(message)
        return _json(message)

    async def _webhook_message(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        record = self.interactions.get(parts[2])
        if record is None or record.response is None:
            return _error(404, "Unknown Message", 10008)
        target = (
            record.response
            if parts[4] == "@original"
            else next((m for m in record.followups if m["id"] == parts[4]), None)
        )
        if target is None:
            return _error(404, "Unknown Message", 10008)
        if request.method == "PATCH":
            _apply_edit(target, body or {})
            target["flags"] = target.get("flags", 0) & ~LOADING
            target["edited_timestamp"] = now_iso()
        return _json(target)

    _ROUTES: ClassVar[dict[tuple[str, tuple[str, ...]], Any]] = {}


def _apply_edit(message: Json, body: Json) -> None:
    """An edit changes only what it names (content, embeds, components)."""
    message.update({key: value for key, value in body.items() if key in ("content", "embeds", "components")})


def _shape(parts: list[str]) -> tuple[str, ...]:
    """A path with ids replaced by '#': the key the route table is looked up by."""
    return tuple("#" if p.isdigit() or p.startswith("itoken-") else p for p in parts)


DiscordEmulator._ROUTES = {
    ("GET", ("users", "@me")): DiscordEmulator._me,
    ("GET", ("oauth2", "applications", "@me")): DiscordEmulator._application,
    ("GET", ("gateway", "bot")): DiscordEmulator._gateway_bot,
    ("GET", ("applications", "#", "commands")): DiscordEmulator._commands,
    ("PUT", ("applications", "#", "commands")): DiscordEmulator._commands,
    ("GET", ("applications", "#", "guilds", "#", "commands")): DiscordEmulator._commands,
    ("PUT", ("applications", "#", "guilds", "#", "commands")): DiscordEmulator._commands,
    ("GET", ("channels", "#", "messages")): DiscordEmulator._channel_messages,
    ("POST", ("channels", "#", "messages")): DiscordEmulator._channel_messages,
    ("PATCH", ("channels", "#", "messages", "#")): DiscordEmulator._edit_message,
    ("GET", ("channels", "#")): DiscordEmulator._get_channel,
    ("POST", ("channels", "#", "messages", "#", "threads")): DiscordEmulator._thread,
    ("POST", ("users", "@me", "channels")): DiscordEmulator._open_dm,
    ("GET", ("users", "#")): DiscordEmulator._user,
    ("GET", ("guilds", "#", "members", "#")): DiscordEmulator._member,
    ("POST", ("interactions", "#", "#", "callback")): DiscordEmulator._callback,
    ("POST", ("webhooks", "#", "#")): DiscordEmulator._followup,
    ("GET", ("webhooks", "#", "#", "messages", "#")): DiscordEmulator._webhook_message,
    ("PATCH", ("webhooks", "#", "#", "messages", "#")): DiscordEmulator._webhook_message,
    ("GET", ("webhooks", "#", "#", "messages", "@original")): DiscordEmulator._webhook_message,
    ("PATCH", ("webhooks", "#", "#", "messages", "@original")): DiscordEmulator._webhook_message,
}
