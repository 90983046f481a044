"""A client may send a required text option as white space (Discord's own client refuses an empty
one, not every client refuses blanks): every command answers it with a clear word of what to type,
never an arbitrary paper, an empty result dressed as an answer, or an error of ours."""

from __future__ import annotations

from typing import Any

import discord
import pytest
from discord import AppCommandOptionType, app_commands

from bot.errors import PaperbotError


def blank_commands(tree: app_commands.CommandTree[Any]) -> list[tuple[str, list[str]]]:
    """(command, its required text options) for every command whose required options are all free text."""
    found = []
    for command in tree.walk_commands():
        if not isinstance(command, app_commands.Command):
            continue
        required = [p for p in command.parameters if p.required]
        if required and all(p.type is AppCommandOptionType.string and not p.choices for p in required):
            found.append((command.qualified_name, [p.name for p in required]))
    return sorted(found)


@pytest.mark.parametrize("blank", ["   ", "\u3000\t"])
async def test_every_required_text_option_sent_blank_is_answered_clearly(world: Any, blank: str) -> None:
    env, channel, _, _ = world
    admins = channel.guild.create_role("Admins", permissions=discord.Permissions(administrator=True))
    admin = channel.guild.add_member(env.create_user("admin"), roles=[admins])  # sees every command
    commands = blank_commands(env.bot.tree)
    assert len(commands) >= 10  # show, search, follow add, library save/tag/note/..., ...
    for name, options in commands:
        result = await admin.slash(channel, name, **dict.fromkeys(options, blank))
        text = result.response.content or ""
        assert result.response.embeds == [], name  # no paper, list or page for nothing typed
        # A sentence saying what to type, not "“   ”" treated as something typed.
        assert text and "went wrong" not in text and blank not in text, (name, text)
    for error in env.errors:
        assert isinstance(getattr(error, "original", error), PaperbotError), error
