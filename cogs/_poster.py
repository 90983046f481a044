"""Discord as the services' outbox: the Poster digests go through, the Messenger alert DMs go through."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import discord

from bot.client import PaperBot
from bot.domain.digest import DigestMessage, parse_part
from bot.services.alerts import PartRefused, RecipientUnreachable
from bot.services.digest import DestinationGone
from cogs._render import message_embeds
from cogs._views import save_menu

# The marker scan reads every message after the claim (however many), from a little before it:
# our clock and Discord's may disagree slightly.
CLOCK_SKEW = timedelta(minutes=2)
DMS_CLOSED = 50007  # "Cannot send messages to this user"
# A server's AutoMod rules apply to bots too: a paper's title can meet a keyword filter.
AUTOMOD_BLOCKED = (200000, 240000)  # "blocked by automatic moderation", "... by harmful links filter"


class DiscordPoster:
    """Digest parts into server channels; a part Discord does not answer within
    ``delivery.send_timeout_seconds`` raises TimeoutError (the claim stays open and is resumed)."""

    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot

    async def _channel(self, channel_id: int) -> discord.TextChannel:
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(channel_id)
            except discord.NotFound:
                raise DestinationGone(
                    "The digest channel was deleted: pick another with /digest setup."
                ) from None
            except discord.Forbidden:
                raise DestinationGone("The bot can no longer see the digest channel.") from None
        if not isinstance(channel, discord.TextChannel):
            raise DestinationGone("The digest channel is not a text channel any more.")
        return channel

    async def send(self, channel_id: int, message: DigestMessage, *, nonce: str) -> int:
        channel = await self._channel(channel_id)
        votes = await self.bot.services.votes.enabled(channel.guild.id)
        try:
            async with asyncio.timeout(self.bot.settings.delivery.send_timeout_seconds):
                sent = await send_planned(channel, message, nonce=nonce, votes=votes)
        except discord.Forbidden:
            raise DestinationGone(
                f"The bot may not post in #{channel.name}: "
                "it needs View Channel, Send Messages and Embed Links there."
            ) from None
        except discord.NotFound:
            raise DestinationGone(
                "The digest channel was deleted: pick another with /digest setup."
            ) from None
        except discord.HTTPException as exc:
            if not refused_for_good(exc):
                raise  # a 5xx or rate limit passes: the claim stays open and is resumed
            raise DestinationGone(refusal_reason(exc)) from None
        return sent.id

    async def find_parts(self, channel_id: int, marker: str, *, since: datetime) -> dict[int, int]:
        channel = await self._channel(channel_id)
        try:
            return await marked_parts(channel, self.bot.user, marker, since=since)
        except discord.Forbidden:
            raise DestinationGone(
                "The bot cannot read the digest channel's history (Read Message History)."
            ) from None

    async def open_thread(self, channel_id: int, message_id: int, name: str) -> None:
        channel = await self._channel(channel_id)
        await channel.get_partial_message(message_id).create_thread(name=name, auto_archive_duration=1440)


def refused_for_good(exc: discord.HTTPException) -> bool:
    """Discord refused the message itself (a 4xx other than a rate limit, a timeout or the bot's
    own token being refused, which no pause of one digest fixes): sent again it is refused again,
    so retrying on every tick would only repeat the refusal for days while the rest of the post
    never goes out and nobody is told."""
    return 400 <= exc.status < 500 and exc.status not in (401, 408, 429)


def refusal_reason(exc: discord.HTTPException) -> str:
    """Why a post stopped, for /digest show and the admin's notice (shown cut at 200 characters),
    which go on to say that /digest resume posts it once that is fixed."""
    if exc.code in AUTOMOD_BLOCKED:
        return f"This server's AutoMod blocked the post ({said(exc)}): exempt the bot's role from that rule."
    return f"Discord refused the post ({refusal_words(exc)})."


def said(exc: discord.HTTPException) -> str:
    return " ".join(exc.text.split())[:80] or f"HTTP {exc.status}"


def refusal_words(exc: discord.HTTPException) -> str:
    """Discord's code and words, on one short line (logs, /digest show)."""
    return f"error {exc.code}: {said(exc)}"


class DiscordMessenger:
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot

    async def _dm(self, user_id: int) -> discord.DMChannel:
        user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
        return user.dm_channel or await user.create_dm()

    async def is_member(self, guild_id: int, user_id: int) -> bool:
        guild = self.bot.get_guild(guild_id)
        if guild is None and self.bot.settings.shard_plan.owns(guild_id):
            return False  # a server of this process's shards the bot is no longer in
        try:
            if guild is not None:
                await guild.fetch_member(user_id)
            else:
                # Another process's shard: this one has no cache of it, but REST is not sharded.
                await self.bot.http.get_member(guild_id, user_id)
        except discord.NotFound:
            return False
        except discord.Forbidden:
            # Discord answers 403 Missing Access about a server the bot is not in (another
            # process's shard that removed the bot, or a removal this process has not heard of).
            return False
        return True

    async def find_parts(self, user_id: int, marker: str, *, since: datetime) -> dict[int, int]:
        return await marked_parts(await self._dm(user_id), self.bot.user, marker, since=since)

    async def send(self, user_id: int, message: DigestMessage, *, nonce: str) -> int:
        try:
            async with asyncio.timeout(self.bot.settings.delivery.send_timeout_seconds):
                channel = await self._reach(user_id)
                return (await send_planned(channel, message, nonce=nonce)).id
        except discord.Forbidden as exc:
            raise RecipientUnreachable("DMs closed" if exc.code == DMS_CLOSED else exc.text) from None
        except discord.NotFound as exc:  # their DM channel is gone: about the member, not the part
            raise RecipientUnreachable(refusal_words(exc)) from None
        except discord.HTTPException as exc:
            if not refused_for_good(exc):
                raise  # a 5xx or rate limit passes: the batch stays open and is resumed
            raise PartRefused(refusal_words(exc)) from None

    async def _reach(self, user_id: int) -> discord.DMChannel:
        """The member's DM channel; a refusal here is about the member (an unknown or deleted
        account), never about the part, so it stops their alerts instead of dropping papers."""
        try:
            return await self._dm(user_id)
        except discord.HTTPException as exc:
            if not refused_for_good(exc):
                raise
            raise RecipientUnreachable(refusal_words(exc)) from None


async def send_planned(
    channel: discord.abc.Messageable, message: DigestMessage, *, nonce: str | None = None, votes: bool = False
) -> discord.Message:
    """Send one planned message (digest part or alert DM part), with a menu to save any of its
    papers (and, ``votes``: a server's digest, one to vote for them); it never pings anyone. With
    a ``nonce``, discord.py asks Discord to enforce it: the same part sent twice within Discord's
    nonce window returns the first message instead of creating a second."""
    extra: dict[str, Any] = {}
    menu = save_menu(message.saves, votes=votes)
    if menu is not None:
        extra["view"] = menu
    if nonce is not None:
        extra["nonce"] = nonce
    return await channel.send(
        embeds=message_embeds(message), allowed_mentions=discord.AllowedMentions.none(), **extra
    )


async def marked_parts(
    channel: discord.abc.Messageable, me: discord.abc.User | None, marker: str, *, since: datetime
) -> dict[int, int]:
    """Parts of a multi-message post already in ``channel``: part number -> message id, found by
    the ``marker`` footer on the bot's own messages after ``since`` (the claim): every one of
    them, however busy the channel was meanwhile."""
    found: dict[int, int] = {}
    oldest = since - CLOCK_SKEW
    async for message in channel.history(limit=None):  # newest first, page by page
        if message.created_at < oldest:
            break
        if me is None or message.author.id != me.id or not message.embeds:
            continue
        part = parse_part(message.embeds[0].footer.text or "", marker)
        if part is not None:
            # The oldest since the claim wins: after a change of time zone a newer post of the
            # channel can carry the same day (and marker), and the claim's own part came first.
            found[part] = message.id
    return found
