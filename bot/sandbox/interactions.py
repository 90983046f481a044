"""Members acting: slash commands, autocomplete, button clicks and select-menu picks sent to the
bot as interactions, built from the synced command definitions."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.sandbox.model import (
    MEMBER_DEFAULT,
    RESPONSE_DEADLINE,
    Channel,
    Guild,
    InteractionRecord,
    Json,
    Member,
    User,
    snowflake,
)
from bot.sandbox.rules import (
    ATTACHMENT_BYTES,
    BUTTON,
    STRING_SELECT,
    buttons,
    check_click,
    check_options,
    chosen_values,
    menu_name,
    menus,
)
from bot.sandbox.world import World


class Interactions(World):
    def _command(self, guild: Guild | None, name: str) -> Json:
        pool = self.guild_commands.get(guild.id, []) + self.global_commands if guild else self.global_commands
        for command in pool:
            if command["name"] == name:
                return command
        raise LookupError(f"/{name} is not synced: run `paperbot sync` (or sync from the test) first")

    @staticmethod
    def leaf(definition: Json, path: list[str]) -> Json:
        """The (sub)command ``path`` names below ``definition``."""
        for name in path:
            subs = {o["name"]: o for o in definition.get("options", []) if o["type"] in (1, 2)}
            if name not in subs:
                known = ", ".join(subs) or "none"
                raise LookupError(f"/{definition['name']} has no subcommand {name!r} (it has: {known})")
            definition = subs[name]
        return definition

    def _options(
        self, definition: Json, path: list[str], values: Json, focused: str | None
    ) -> tuple[Json, Json]:
        """Interaction option tree for ``/command sub ... opt=value``, plus resolved channels."""
        resolved: Json = {}
        options = definition.get("options", [])
        if path:
            sub = self.leaf(definition, path[:1])
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
            "attachment_size_limit": ATTACHMENT_BYTES,
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
        self.dispatch("INTERACTION_CREATE", payload, guild_id=guild.id if guild else None)
        # Waiters learn when Discord's time to answer runs out, as the member does (``unanswered``).
        asyncio.get_running_loop().call_later(RESPONSE_DEADLINE, self._wake_waiters)
        return record

    def send_slash(self, user: User, channel: Channel, command: str, /, **options: Any) -> InteractionRecord:
        """Send ``/command sub ... opt=value`` as ``user`` without waiting for the answer (load tests)."""
        name, *path = command.split()
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        definition = self._command(guild, name)
        check_options(self.leaf(definition, path), options, command=command)  # as Discord's client does
        tree, resolved = self._options(definition, path, options, None)
        data = {"id": definition["id"], "name": name, "type": 1, **tree}
        if resolved:
            data["resolved"] = resolved
        return self._interaction(2, user, channel, data)

    async def slash(
        self, user: User, channel: Channel, command: str, /, wait: float = 10.0, **options: Any
    ) -> InteractionRecord:
        record = self.send_slash(user, channel, command, **options)
        await self.wait_for(record.done, wait)
        return record

    def send_autocomplete(
        self, user: User, channel: Channel, command: str, option: str, typed: str, **filled: Any
    ) -> InteractionRecord:
        """Send what ``user`` typed into an autocompleted option, without waiting for the choices."""
        name, *path = command.split()
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        definition = self._command(guild, name)
        declared = {o["name"]: o for o in self.leaf(definition, path).get("options", [])}
        if not declared.get(option, {}).get("autocomplete"):
            raise LookupError(f"/{command} {option} has no autocomplete")
        tree, _ = self._options(definition, path, {**filled, option: typed}, option)
        record = self._interaction(
            4, user, channel, {"id": definition["id"], "name": name, "type": 1, **tree}
        )
        record.option = declared[option]
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
        record = self.send_autocomplete(user, channel, command, option, typed, **filled)
        await self.wait_for(record.done, wait)
        return record.choices

    def _as_now(self, message: Json) -> tuple[Channel, Json]:
        """``message``'s channel and the message as it is now (edits since included)."""
        channel = self.channels[int(message["channel_id"])]
        return channel, next((m for m in channel.messages if m["id"] == message["id"]), message)

    async def click(self, user: User, message: Json, label: str, wait: float = 10.0) -> InteractionRecord:
        """Click the button labelled ``label`` on ``message`` as it is now."""
        channel, message = self._as_now(message)
        button = next((b for b in buttons(message) if b.get("label") == label), None)
        if button is None:
            labels = ", ".join(str(b.get("label")) for b in buttons(message)) or "no buttons"
            names = ", ".join(map(menu_name, menus(message)))
            in_menus = f"; select menus: {names}" if names else ""
            raise LookupError(f"no button {label!r} on that message (it has: {labels}{in_menus})")
        check_click(button)
        data = {"custom_id": button["custom_id"], "component_type": BUTTON}
        record = self._interaction(3, user, channel, data, message=message)
        await self.wait_for(record.done, wait)
        return record

    async def choose(
        self, user: User, message: Json, menu: str, picks: list[str], wait: float = 10.0
    ) -> InteractionRecord:
        """Pick ``picks`` (option values or labels) in the select menu ``menu`` (its custom id or
        placeholder) on ``message`` as it is now, as Discord's client sends it."""
        channel, message = self._as_now(message)
        found = next((m for m in menus(message) if menu in (m.get("custom_id"), m.get("placeholder"))), None)
        if found is None:
            names = ", ".join(map(menu_name, menus(message))) or "none"
            raise LookupError(f"no select menu {menu!r} on that message (it has: {names})")
        values = chosen_values(found, picks)
        data = {"custom_id": found["custom_id"], "component_type": STRING_SELECT, "values": values}
        record = self._interaction(3, user, channel, data, message=message)
        await self.wait_for(record.done, wait)
        return record
