"""The permissions matrix: who may run what, and where personal data may appear."""

from __future__ import annotations

from typing import Any

import discord
import pytest

ADMIN_COMMANDS = [
    ("digest setup", {"time": "09:00", "timezone": "UTC"}),
    ("digest show", {}),
    ("digest pause", {}),
    ("digest resume", {}),
    ("digest preview", {}),
    ("digest post-now", {}),
]


@pytest.mark.parametrize(("command", "options"), ADMIN_COMMANDS)
async def test_admin_commands_are_hidden_from_members_and_refused_even_if_shown(
    world: Any, command: str, options: dict[str, Any]
) -> None:
    env, channel, alice, _ = world
    assert command not in alice.available_commands(channel)  # default permissions: Manage Server
    [group] = [c for c in await env.bot.tree.fetch_commands() if c.name == command.split()[0]]
    channel.guild.set_command_permissions(group, {alice: True})  # a server overrides who sees it...
    if command == "digest setup":
        options = {**options, "channel": channel}
    result = await alice.slash(channel, command, **options)
    assert result.ephemeral and "Manage Server" in result.response.content  # ...the bot still refuses
    assert [type(e).__name__ for e in env.errors] == ["MissingPermissions"]


async def test_commands_carry_the_right_defaults(world: Any) -> None:
    env = world[0]
    synced = {c.name: c for c in await env.bot.tree.fetch_commands()}
    assert synced["digest"].default_member_permissions == discord.Permissions(manage_guild=True)
    assert synced["admin"].default_member_permissions == discord.Permissions(administrator=True)
    assert synced["papers"].default_member_permissions is None  # for everyone
    assert synced["follow"].default_member_permissions is None
    assert (
        not synced["digest"].allowed_contexts.private_channel
        and not synced["follow"].allowed_contexts.private_channel
    )


async def test_sync_is_for_the_owner_even_among_admins(world: Any) -> None:
    env, channel, _, _ = world
    role = channel.guild.create_role("Admins", permissions=discord.Permissions(administrator=True))
    boss = channel.guild.add_member(env.create_user("boss"), roles=[role])
    refused = await boss.slash(channel, "admin sync")
    # Said plainly, since a server admin may well expect it to be theirs.
    assert refused.ephemeral and "/admin sync is for the bot's owner only" in refused.response.content
    assert "not server admins" in refused.response.content
    assert [type(e).__name__ for e in env.errors] == ["CheckFailure"]


async def test_personal_follow_data_is_only_ever_shown_to_its_owner(world: Any) -> None:
    _, channel, alice, bob = world
    await alice.slash(channel, "follow add", keyword="secret topic")
    for command in ("follow list", "follow pause", "follow resume"):
        result = await alice.slash(channel, command)
        assert result.ephemeral
    assert "secret topic" not in (await bob.slash(channel, "follow list")).response.content
    assert await bob.autocomplete(channel, "follow remove", "keyword", "secret") == []
    public = [m.content for m in channel.history()]
    assert not any("secret topic" in text for text in public)
