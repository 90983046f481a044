"""The emulator's world: its state (users, guilds, channels, commands, interactions) and the builders
and queries tests use to set it up and look at it. The gateway, REST routes, interactions and faults
are layered on top (see emulator.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from bot.sandbox.auth import DEFAULT_TOKEN, bot_header
from bot.sandbox.model import (
    EPHEMERAL,
    MANAGE_GUILD,
    MEMBER_DEFAULT,
    Channel,
    Guild,
    InteractionRecord,
    Json,
    Member,
    User,
    snowflake,
)

API = "/api/v10"


class World:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, token: str = DEFAULT_TOKEN) -> None:
        self.host, self.port = host, port
        self.token = token  # the bot's token: Discord answers nobody else (bot/sandbox/auth.py)
        self.bot = User(snowflake(), "paperbot", bot=True)
        self.application_id = snowflake()
        self.owner = User(snowflake(), "owner")
        self.users: dict[int, User] = {self.bot.id: self.bot, self.owner.id: self.owner}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.global_commands: list[Json] = []
        self.guild_commands: dict[int, list[Json]] = {}
        self.interactions: dict[str, InteractionRecord] = {}
        self.tokens_seen: set[str] = set()
        self._changed = asyncio.Condition()
        self._wakeups: set[asyncio.Future[None]] = set()

    @property
    def api_base(self) -> str:
        return f"http://{self.host}:{self.port}{API}"

    @property
    def auth_headers(self) -> dict[str, str]:
        """What a REST client sends to be the bot."""
        return {"Authorization": bot_header(self.token)}

    def reset_token(self, token: str) -> None:
        """The owner pressed Reset Token in the Developer Portal: from now on only ``token`` works."""
        self.token = token

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    def dispatch(self, event: str, data: Json, *, guild_id: int | None = None) -> None:
        """Tell the bots connected for ``guild_id``'s shard (None: DMs) about ``event``: a world with
        no gateway has nobody to tell."""

    def session_start_limit(self) -> Json:
        """What /gateway/bot says about starting sessions (the gateway keeps the count)."""
        return {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}

    @property
    def connected(self) -> bool:
        """Whether a bot is connected to hear about changes (the gateway says)."""
        return False

    # ---- builders --------------------------------------------------------------------------------

    def create_guild(self, name: str, *, guild_id: int | None = None, commands_scope: bool = True) -> Guild:
        """A server; ``guild_id`` places it (on a shard: bot.sandbox.shards.guild_id_on_shard);
        ``commands_scope``: the bot was invited with applications.commands (else syncing its
        server's commands is refused)."""
        guild = Guild(guild_id or snowflake(), name, self.owner.id, commands_scope=commands_scope)
        guild.members[self.owner.id] = Member(self.owner, MEMBER_DEFAULT | MANAGE_GUILD)
        self.guilds[guild.id] = guild
        if self.connected:
            self.dispatch("GUILD_CREATE", guild.payload(self.bot), guild_id=guild.id)
        return guild

    def create_channel(self, guild: Guild, name: str, *, bot_denied: int = 0) -> Channel:
        """A text channel; ``bot_denied`` takes permissions from the bot there (e.g. SEND_MESSAGES)."""
        channel = Channel(snowflake(), 0, name=name, guild_id=guild.id, bot_denied=bot_denied)
        channel.bot_role_id = guild.bot_role_id
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        if self.connected:
            self.dispatch("CHANNEL_CREATE", channel.payload(), guild_id=guild.id)
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

    def _wake_waiters(self) -> None:
        """Re-check every ``wait_for`` now (from a timer: a change no request brought)."""
        task = asyncio.ensure_future(self._notify())
        self._wakeups.add(task)
        task.add_done_callback(self._wakeups.discard)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()
