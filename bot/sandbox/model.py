"""The emulator's world: users, guilds, channels, messages, commands. Plain data, Discord's JSON shapes."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Json = dict[str, Any]
Problems = list[tuple[str, str]]  # (field path, message): why Discord answers 400 Invalid Form Body
DISCORD_EPOCH_MS = 1420070400000
MANAGE_GUILD = 1 << 5
# View Channel, Send Messages, Embed Links, Read Message History, Use Application Commands.
MEMBER_DEFAULT = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 31)
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
# What an invited paperbot gets: the member defaults plus threads; not Administrator, so that a
# channel overwrite can take permissions away, as on Discord.
BOT_DEFAULT = MEMBER_DEFAULT | (1 << 35) | (1 << 38)  # create public threads, send in threads
EPHEMERAL = 1 << 6
LOADING = 1 << 7

_counter = itertools.count(1)


def snowflake() -> int:
    """Unique, time-ordered ids like Discord's."""
    return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(_counter) & 0x3FFFFF)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class User:
    id: int
    username: str
    bot: bool = False

    def payload(self) -> Json:
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.username,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass
class Member:
    user: User
    permissions: int
    roles: list[int] = field(default_factory=list)

    def payload(self, guild_id: int) -> Json:
        return {
            "user": self.user.payload(),
            "roles": [str(r) for r in self.roles],
            "joined_at": now_iso(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
            "avatar": None,
            "permissions": str(self.permissions),
        }


@dataclass
class Channel:
    id: int
    type: int  # 0 text, 1 DM, 11 public thread
    name: str | None = None
    guild_id: int | None = None
    parent_id: int | None = None
    recipient: User | None = None
    messages: list[Json] = field(default_factory=list)
    bot_denied: int = 0  # permissions taken from the bot here (a member overwrite on its role)
    bot_role_id: int | None = None

    def payload(self) -> Json:
        data: Json = {"id": str(self.id), "type": self.type, "last_message_id": None}
        if self.type == 1 and self.recipient is not None:
            data["recipients"] = [self.recipient.payload()]
            return data
        data.update(
            name=self.name,
            guild_id=str(self.guild_id),
            position=0,
            permission_overwrites=(
                [{"id": str(self.bot_role_id), "type": 0, "allow": "0", "deny": str(self.bot_denied)}]
                if self.bot_denied and self.bot_role_id
                else []
            ),
            nsfw=False,
            topic=None,
            rate_limit_per_user=0,
            parent_id=str(self.parent_id) if self.parent_id else None,
        )
        if self.type == 11:
            data.update(
                owner_id=None,
                thread_metadata={
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": now_iso(),
                    "locked": False,
                },
                message_count=0,
                member_count=1,
            )
        return data


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    members: dict[int, Member] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    bot_role_id: int = field(default_factory=snowflake)
    commands_scope: bool = True  # invited with applications.commands: its commands can be synced

    def payload(self, bot: User) -> Json:
        roles = [
            {
                "id": str(self.id),
                "name": "@everyone",
                "permissions": str(MEMBER_DEFAULT),
                "position": 0,
                "color": 0,
                "hoist": False,
                "managed": False,
                "mentionable": False,
                "flags": 0,
            },
            {
                "id": str(self.bot_role_id),
                "name": "paperbot",
                "permissions": str(BOT_DEFAULT),
                "position": 1,
                "color": 0,
                "hoist": False,
                "managed": True,
                "mentionable": False,
                "flags": 0,
            },
        ]
        bot_member = Member(bot, BOT_DEFAULT, [self.bot_role_id]).payload(self.id)
        return {
            "id": str(self.id),
            "name": self.name,
            "owner_id": str(self.owner_id),
            "roles": roles,
            "channels": [c.payload() for c in self.channels.values() if c.type == 0],
            "threads": [],
            "members": [bot_member],
            "member_count": len(self.members) + 1,
            "large": False,
            "unavailable": False,
            "features": [],
            "emojis": [],
            "stickers": [],
            "voice_states": [],
            "presences": [],
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "joined_at": now_iso(),
            "system_channel_id": None,
            "icon": None,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
        }


RESPONSE_DEADLINE = 3.0  # seconds Discord gives a bot to answer (or defer) an interaction


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
    option: Json | None = None  # the focused option's definition (autocomplete)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # Discord's 400 to the bot's answer

    @property
    def ephemeral(self) -> bool:
        return bool(self.response and self.response.get("flags", 0) & EPHEMERAL)

    @property
    def choices(self) -> list[Json]:
        return list((self.response or {}).get("choices", []))

    def unanswered(self) -> bool:
        """Discord's time to answer ran out with no answer (none came, or it came late and was
        refused): the member saw "The application did not respond" and may try again."""
        if self.callback_type is not None:
            return False
        return self.late or asyncio.get_running_loop().time() - self.created > RESPONSE_DEADLINE

    def done(self) -> bool:
        if self.rejected:  # the bot's answer was refused: the member sees an error, nothing more comes
            return True
        if self.callback_type is None:
            return False
        if self.callback_type == 5:  # deferred: done once something replaced the loading state
            return bool(self.followups) or not (self.response or {}).get("flags", 0) & LOADING
        return True
