"""/help and /about in simcord: what each member may use here, and what the bot says about itself."""

from __future__ import annotations

import re
from typing import Any

import discord
import pytest
from discord import app_commands

import bot as paperbot
from bot.domain.about import MEMBER_TABLES, CommandHelp, format_size, help_fields
from bot.storage.database import Database
from cogs.meta import _example

COMMAND = re.compile(r"^`/([a-z -]+)` ", re.M)
EXAMPLE = re.compile(r"^↳ `(/[^`]+)`$", re.M)


def listed(result: Any) -> tuple[set[str], list[str]]:
    """The commands a /help answer lists, and its examples."""
    [embed] = result.response.embeds
    text = "\n".join(field.value for field in embed.fields)
    return set(COMMAND.findall(text)), EXAMPLE.findall(text)


async def test_a_member_sees_what_discord_lets_them_run_each_with_an_example(world: Any) -> None:
    _, channel, alice, _ = world
    result = await alice.slash(channel, "help")
    assert result.ephemeral
    commands, examples = listed(result)
    # The same list Discord shows alice, less /papers stats (for admins, checked by the command itself).
    assert commands == set(alice.available_commands(channel)) - {"papers stats"}
    assert {"papers search", "follow add", "help", "about"} <= commands
    assert not commands & {"digest setup", "digest post-now", "papers stats", "admin sync"}
    assert len(examples) == len(commands)
    assert "/papers search query:diffusion models" in examples


async def test_an_admin_also_sees_the_admin_commands_and_the_owner_sees_sync(world: Any) -> None:
    env, channel, alice, _ = world
    admins = channel.guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
    mod = channel.guild.add_member(env.create_user("mod"), roles=[admins])
    member_view, _ = listed(await alice.slash(channel, "help"))
    mod_view, _ = listed(await mod.slash(channel, "help"))
    digest = {
        f"digest {name}" for name in ("setup", "show", "remove", "pause", "resume", "preview", "post-now")
    }
    assert mod_view - member_view == digest | {"papers stats"}
    assert "admin sync" not in mod_view  # an administrator's, and then the bot owner's only

    owners = channel.guild.create_role("Owners", permissions=discord.Permissions(administrator=True))
    boss = channel.guild.add_member(env.create_user("boss"), roles=[owners])
    admin_view, _ = listed(await boss.slash(channel, "help"))
    assert "admin sync" not in admin_view
    env.bot.settings = env.bot.settings.model_copy(update={"owner_ids": [boss.id]})
    owner_view, _ = listed(await boss.slash(channel, "help"))
    assert owner_view - admin_view == {"admin sync"}


async def test_in_a_dm_help_lists_only_what_works_in_a_dm(world: Any) -> None:
    _, _, alice, _ = world
    commands, _ = listed(await alice.user.slash("help"))
    library = {
        f"library {name}"
        for name in ("save", "list", "remove", "read", "unread", "tag", "note", "export", "picks", "digest")
    }
    papers = {"papers search", "papers show", "papers random", "papers today", "papers top", "papers rising"}
    papers.add("papers similar")
    own = {"privacy forget", "help", "about"}
    assert commands == papers | library | own  # a member's own data works in DMs
    assert commands == set(alice.user.available_commands()) - {"papers stats"}


async def test_every_example_uses_real_options_of_its_command(world: Any) -> None:
    env = world[0]
    for command in env.bot.tree.walk_commands():
        if not isinstance(command, app_commands.Command):
            continue
        example = _example(command)
        assert example.startswith(f"/{command.qualified_name}")
        rest = example.removeprefix(f"/{command.qualified_name}")
        options = set(re.findall(r"(?<!\S)([a-z_]+):", rest))
        names = {p.display_name for p in command.parameters}
        assert options <= names, (command.qualified_name, options - names)
        assert {p.display_name for p in command.parameters if p.required} <= options


def test_a_long_group_continues_in_another_field_never_cut_mid_command() -> None:
    commands = [CommandHelp(f"big cmd{i:02}", "d" * 80, f"/big cmd{i:02} option:value") for i in range(40)]
    fields = help_fields(commands, value_limit=1024)
    assert len(fields) > 1 and fields[1][0] == "/big (more)"
    assert all(len(value) <= 1024 for _, value in fields)
    assert sum(value.count("\n↳ `/big cmd") for _, value in fields) == 40


async def test_about_gives_version_store_uptime_invite_and_what_is_kept(world: Any) -> None:
    env, channel, alice, _ = world
    env.bot.health.started_at = env.now()  # the bot was built before the virtual clock existed
    await env.advance_time(2 * 3600 + 5 * 60)
    result = await alice.slash(channel, "about")
    assert result.ephemeral
    [embed] = result.response.embeds
    fields = {field.name: field.value for field in embed.fields}
    assert embed.title == f"paperbot {paperbot.__version__}"
    assert fields["Store"].startswith("69 papers")  # in memory here: no size on disk to show
    assert fields["Uptime"] == "2 h 5 min"
    assert "Hugging Face Daily Papers: not fetched yet" in fields["Sources"]
    assert f"client_id={env.bot.application_id}" in fields["Invite"]
    assert "scope=bot+applications.commands" in fields["Invite"]
    kept = fields["What paperbot keeps about you"]
    assert "keywords you follow" in kept and "`/privacy forget`" in kept


async def test_the_privacy_note_names_every_table_that_holds_member_data(database: Database) -> None:
    """A new table keyed by a member must be added to what /about says paperbot keeps (a missed-day
    DM's batch names its admin as ``target_id``)."""
    async with database.connection.execute(
        "SELECT DISTINCT m.name FROM sqlite_master AS m, pragma_table_info(m.name) AS c "
        "WHERE m.type = 'table' AND c.name IN ('user_id', 'target_id')"
    ) as cursor:
        tables = {row[0] for row in await cursor.fetchall()}
    assert tables == set(MEMBER_TABLES)


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (999, "999 B"), (1000, "1.0 KB"), (1_234_567, "1.2 MB"), (5_000_000_000_000, "5000.0 GB")],
)
def test_store_sizes_read_naturally(size: int, text: str) -> None:
    assert format_size(size) == text


async def test_the_store_size_counts_the_file_and_its_write_ahead_log(tmp_path: Any) -> None:
    database = await Database.open(tmp_path / "size.db")
    try:
        size = database.file_size()
        assert size is not None and size >= (tmp_path / "size.db").stat().st_size > 0
    finally:
        await database.close()
