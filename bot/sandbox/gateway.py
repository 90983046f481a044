"""The emulator's gateway: HELLO, IDENTIFY (READY and the guilds), heartbeats, RESUME replaying what
a bot missed, and dispatching events to every connected bot."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import WSMsgType, web

from bot.sandbox.model import Json, snowflake
from bot.sandbox.world import World

HEARTBEAT_MS = 41250


class Gateway(World):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.identified = asyncio.Event()
        self.resumed_count = 0
        self.identify_count = 0
        self._sockets: list[web.WebSocketResponse] = []
        self._sessions: dict[str, list[Json]] = {}  # session id -> dispatched events (for RESUME)
        self._seq: dict[str, int] = {}
        self._pending: set[asyncio.Future[None]] = set()

    @property
    def connected(self) -> bool:
        return bool(self._sockets)

    async def disconnect_gateway(self, code: int = 4000) -> None:
        """Drop the bot's gateway connection with a resumable close code."""
        for socket in list(self._sockets):
            await socket.close(code=code, message=b"emulated disconnect")

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
