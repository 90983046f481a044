"""The emulator's gateway: HELLO, IDENTIFY (READY and the shard's guilds), heartbeats, RESUME
replaying what a bot missed, and dispatching each event to the sessions of the shard that owns it.

Sharding is Discord's (bot/sandbox/shards.py): a session identifies as ``[shard_id, shard_count]``
and hears only about its shard's servers (DMs: shard 0); impossible shards, sessions holding too
many servers and IDENTIFYs faster than ``max_concurrency`` allows are refused as Discord refuses them;
so is an IDENTIFY or RESUME with a token not the bot's (4004, bot/sandbox/auth.py).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from bot.sandbox.auth import AUTHENTICATION_FAILED
from bot.sandbox.model import Json, snowflake
from bot.sandbox.shards import (
    GUILDS_PER_SHARD_LIMIT,
    INVALID_SHARD,
    SHARDING_REQUIRED,
    IdentifyLimiter,
    InvalidShard,
    ShardSpec,
    parse_shard,
)
from bot.sandbox.world import World

HEARTBEAT_MS = 41250
# Discord's heartbeat ACK comes back after a network round trip. An ACK sent at once over loopback
# reached discord.py before its keep-alive thread recorded the heartbeat's send time, so the bot
# logged "Can't keep up, shard ID 0 websocket is 41.3s behind" (the time since the previous beat).
HEARTBEAT_ACK_DELAY = 0.05
SESSION_STARTS_PER_DAY = 1000


@dataclass
class Session:
    """One gateway session: its shard, and every event dispatched to it (replayed on RESUME)."""

    id: str
    shard: ShardSpec
    frames: list[Json] = field(default_factory=list)
    seq: int = 0


class Gateway(World):
    def __init__(self, *, max_concurrency: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.identified = asyncio.Event()
        self.resumed_count = 0
        self.identify_count = 0  # IDENTIFYs that started a session
        self.identify_refused = 0  # IDENTIFYs answered with Invalid Session (too fast)
        self.identify_limiter = IdentifyLimiter(
            lambda: asyncio.get_running_loop().time(), max_concurrency=max_concurrency
        )
        self.session_starts_remaining = SESSION_STARTS_PER_DAY
        self._sockets: list[web.WebSocketResponse] = []
        # Cleared: new connections wait for HELLO (a slow or lost answer), so a test can act while
        # a bot is between connecting and identifying or resuming; ``held_hellos`` counts them.
        self.hello = asyncio.Event()
        self.hello.set()
        self.held_hellos = 0
        self._sessions: dict[str, Session] = {}
        self._pending: set[asyncio.Future[None]] = set()

    @property
    def connected(self) -> bool:
        return bool(self._sockets)

    def session_start_limit(self) -> Json:
        return {
            "total": SESSION_STARTS_PER_DAY,
            "remaining": self.session_starts_remaining,
            "reset_after": 0,
            "max_concurrency": self.identify_limiter.max_concurrency,
        }

    def sessions(self) -> list[Session]:
        """The sessions of the bots connected now."""
        return [s for s in map(_session_of, self._sockets) if s is not None]

    def connected_shards(self) -> set[int]:
        return {session.shard.shard_id for session in self.sessions()}

    async def disconnect_gateway(self, code: int = 4000) -> None:
        """Drop the bot's gateway connections with a resumable close code."""
        for socket in list(self._sockets):
            await socket.close(code=code, message=b"emulated disconnect")

    def dispatch(self, event: str, data: Json, *, guild_id: int | None = None) -> None:
        """Send ``event`` to every session of the shard that owns ``guild_id`` (None: a DM, shard 0)."""
        for socket in list(self._sockets):
            session = _session_of(socket)
            if session is not None and session.shard.owns(guild_id):
                self._send_event(socket, session, event, data)

    def _send_event(self, socket: web.WebSocketResponse, session: Session, event: str, data: Json) -> None:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.frames.append(frame)
        self._send_soon(socket, frame)

    def _send_soon(self, socket: web.WebSocketResponse, frame: Json) -> None:
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
            if not self.hello.is_set():
                self.held_hellos += 1
                await self._notify()
                await self.hello.wait()
            await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}}))
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(message.data)
                await self._gateway_op(socket, frame)
        finally:
            if socket in self._sockets:
                self._sockets.remove(socket)
            await self._notify()
        return socket

    async def _gateway_op(self, socket: web.WebSocketResponse, frame: Json) -> None:
        op, data = frame.get("op"), frame.get("d") or {}
        if op == 1:  # heartbeat
            asyncio.get_running_loop().call_later(HEARTBEAT_ACK_DELAY, self._send_soon, socket, {"op": 11})
        elif op == 2:
            await self._identify(socket, data)
        elif op == 6:  # resume: replay what the bot missed
            if data.get("token") != self.token:
                await socket.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
                return
            session_id, seq = str(data.get("session_id")), int(data.get("seq") or 0)
            session = self._sessions.get(session_id)
            if session is None:
                await socket.send_str(json.dumps({"op": 9, "d": False}))
                return
            socket.session = session  # type: ignore[attr-defined]
            for missed in [f for f in session.frames if f["s"] > seq]:
                await socket.send_str(json.dumps(missed))
            self.resumed_count += 1
            self._send_event(socket, session, "RESUMED", {})
        await self._notify()

    async def _identify(self, socket: web.WebSocketResponse, data: Json) -> None:
        self.tokens_seen.add(str(data.get("token")))
        if data.get("token") != self.token:
            await socket.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return
        try:
            shard = parse_shard(data.get("shard"))
        except InvalidShard:
            await socket.close(code=INVALID_SHARD, message=b"Invalid shard.")
            return
        guilds = [g for g in self.guilds.values() if shard.owns(g.id)]
        if len(guilds) > GUILDS_PER_SHARD_LIMIT:
            await socket.close(code=SHARDING_REQUIRED, message=b"Sharding required.")
            return
        if not self.identify_limiter.admit(shard.shard_id):
            # Too fast for the bucket (max_concurrency per 5 s): Discord answers Invalid Session.
            self.identify_refused += 1
            await socket.send_str(json.dumps({"op": 9, "d": False}))
            return
        self.identify_count += 1
        self.session_starts_remaining -= 1
        session = Session(f"session-{snowflake()}", shard)
        self._sessions[session.id] = session
        socket.session = session  # type: ignore[attr-defined]
        ready = {
            "v": 10,
            "user": self.bot.payload(),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "resume_gateway_url": self.gateway_url,
            "shard": [shard.shard_id, shard.shard_count],
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        self._send_event(socket, session, "READY", ready)
        for guild in guilds:
            self._send_event(socket, session, "GUILD_CREATE", guild.payload(self.bot))
        self.identified.set()


def _session_of(socket: web.WebSocketResponse) -> Session | None:
    return getattr(socket, "session", None)
