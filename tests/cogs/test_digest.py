"""/digest through simcord, with simcord's virtual clock driving the services (it starts at
2026-01-01 00:00 UTC). The scheduler's jobs call ``post_due``; the tests call it the same way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import discord

from bot.client import PaperBot
from bot.domain.schedule import LedgerKey
from bot.parsing.hf_api import parse_hf_api
from bot.services.container import Services

FIXTURES = Path(__file__).parent.parent / "fixtures"
NEW_YEAR = date(2026, 1, 1)


@dataclass
class Server:
    guild: Any
    channel: Any
    admin: Any
    member: Any


def server(env: Any, name: str) -> Server:
    guild = env.create_guild(name=name)
    channel = guild.create_text_channel("papers")
    admins = guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True))
    admin = guild.add_member(env.create_user(f"{name}-admin"), roles=[admins])
    member = guild.add_member(env.create_user(f"{name}-member"))
    return Server(guild, channel, admin, member)


def cog(env: Any) -> Any:
    return env.bot.get_cog("Digest")


def digest_messages(channel: Any) -> list[discord.Message]:
    return [
        m for m in channel.history() if m.embeds and (m.embeds[0].footer.text or "").startswith("digest ")
    ]


async def until(env: Any, hour: int, minute: int = 0, day: date = NEW_YEAR) -> None:
    """Advance the virtual clock to an instant (UTC) and run the due-posts job, as the scheduler would."""
    from datetime import UTC, datetime

    target = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
    await env.advance_time((target - env.now()).total_seconds())
    await cog(env).post_due()


async def test_setup_checks_permissions_time_zone_and_channel(digest_env: Any) -> None:
    env = digest_env
    s = server(env, "lab")
    assert not any(c.startswith("digest") for c in s.member.available_commands(s.channel))
    # A server may override who sees the command; the bot still checks Manage Server itself.
    [digest_command] = [c for c in await env.bot.tree.fetch_commands() if c.name == "digest"]
    s.guild.set_command_permissions(digest_command, {s.member: True})
    denied = await s.member.slash(s.channel, "digest setup", channel=s.channel, time="09:00", timezone="UTC")
    assert denied.ephemeral and "Manage Server" in denied.response.content
    bad_time = await s.admin.slash(s.channel, "digest setup", channel=s.channel, time="25:00", timezone="UTC")
    assert bad_time.ephemeral and "HH:MM" in bad_time.response.content
    bad_zone = await s.admin.slash(
        s.channel, "digest setup", channel=s.channel, time="09:00", timezone="Mars/Base"
    )
    assert bad_zone.ephemeral and "not a time zone" in bad_zone.response.content
    muted = s.guild.create_text_channel(
        "muted", overwrites={s.guild.me: discord.PermissionOverwrite(embed_links=False)}
    )
    refused = await s.admin.slash(s.channel, "digest setup", channel=muted, time="09:00", timezone="UTC")
    assert refused.ephemeral and "Embed Links" in refused.response.content
    choices = await s.admin.autocomplete(s.channel, "digest setup", "timezone", "berl")
    assert choices[0]["value"] == "Europe/Berlin"
    ok = await s.admin.slash(
        s.channel, "digest setup", channel=s.channel, time="09:00", timezone="europe/berlin"
    )
    assert ok.ephemeral
    assert "09:00 Europe/Berlin" in " ".join(f.value for f in ok.response.embeds[0].fields)
    assert len(env.errors) == 4  # the four refusals went through the one error handler


async def test_two_servers_post_at_their_own_local_time_once(digest_env: Any) -> None:
    env = digest_env
    berlin, new_york = server(env, "berlin"), server(env, "nyc")
    await berlin.admin.slash(
        berlin.channel, "digest setup", channel=berlin.channel, time="09:00", timezone="Europe/Berlin"
    )
    await new_york.admin.slash(
        new_york.channel, "digest setup", channel=new_york.channel, time="09:00", timezone="America/New_York"
    )
    await until(env, 7, 59)
    assert digest_messages(berlin.channel) == digest_messages(new_york.channel) == []
    await until(env, 8, 0)  # 09:00 in Berlin (CET)
    [post] = digest_messages(berlin.channel)
    assert "Thursday 01 January 2026" in post.embeds[0].title
    assert "ThinK" in post.embeds[1].description
    assert digest_messages(new_york.channel) == []
    await until(env, 14, 0)  # 09:00 in New York (EST)
    assert len(digest_messages(new_york.channel)) == 1
    await until(env, 14, 5)
    assert len(digest_messages(berlin.channel)) == 1 and len(digest_messages(new_york.channel)) == 1


async def test_dst_change_moves_the_utc_instant(digest_env: Any) -> None:
    env = digest_env
    s = server(env, "dst")
    await s.admin.slash(s.channel, "digest setup", channel=s.channel, time="09:00", timezone="Europe/Berlin")
    await until(env, 7, 0, date(2026, 3, 28))
    assert digest_messages(s.channel) == []  # 08:00 CET: not yet
    await until(env, 8, 0, date(2026, 3, 28))
    await until(env, 7, 0, date(2026, 3, 29))  # 09:00 CEST after the change
    posts = digest_messages(s.channel)
    assert [p.created_at.hour for p in posts] == [8, 7]
    # No new list since January: both are notes that say so, not reposts of old papers.
    assert "No new papers" in posts[1].embeds[0].description


async def test_restart_between_claim_and_confirm_posts_nothing_twice(
    digest_env: Any, services: Services
) -> None:
    env = digest_env
    s = server(env, "crashy")
    await s.admin.slash(s.channel, "digest setup", channel=s.channel, time="09:00", timezone="UTC")
    repository = services.digests.repository
    original = repository.record_part

    async def crash(*_: object) -> None:
        raise RuntimeError("killed after sending, before recording")

    repository.record_part = crash  # type: ignore[method-assign]
    await until(env, 9, 0)
    assert len(digest_messages(s.channel)) == 1  # sent, but the ledger only holds the claim
    assert (await repository.post(LedgerKey(s.guild.id, s.channel.id), NEW_YEAR)).state == "claimed"
    repository.record_part = original  # type: ignore[method-assign]

    await env.restart_bot(PaperBot(services=services, settings=env.bot.settings))
    await env.bot.tree.sync()
    await until(env, 9, 1)
    assert len(digest_messages(s.channel)) == 1
    record = await repository.post(LedgerKey(s.guild.id, s.channel.id), NEW_YEAR)
    assert record.state == "posted" and list(record.message_ids.values()) == [
        digest_messages(s.channel)[0].id
    ]

    await env.restart_bot(PaperBot(services=services, settings=env.bot.settings))
    await until(env, 9, 30)
    assert len(digest_messages(s.channel)) == 1
    assert [type(e).__name__ for e in env.errors] == []


async def test_missed_post_is_caught_up_once_within_grace(digest_env: Any) -> None:
    env = digest_env
    s = server(env, "sleepy")
    await s.admin.slash(s.channel, "digest setup", channel=s.channel, time="09:00", timezone="UTC")
    await env.advance_time(timedelta(hours=11).total_seconds())  # the bot was down at 09:00
    await cog(env).post_due()
    await cog(env).post_due()
    assert len(digest_messages(s.channel)) == 1
    # Next day the bot is down until long after the grace window: no late post, and nothing twice.
    await until(env, 16, 0, NEW_YEAR + timedelta(days=1))
    assert len(digest_messages(s.channel)) == 1


async def test_deleted_channel_pauses_only_that_server(digest_env: Any) -> None:
    env = digest_env
    gone, fine = server(env, "gone"), server(env, "fine")
    for s in (gone, fine):
        await s.admin.slash(s.channel, "digest setup", channel=s.channel, time="09:00", timezone="UTC")
    env.backend.delete_channel(gone.channel.id)
    await env.settle()
    await until(env, 9, 0)
    assert len(digest_messages(fine.channel)) == 1
    posted = await fine.admin.slash(fine.channel, "digest show")
    last = {f.name: f.value for f in posted.response.embeds[0].fields}["Last post"]
    assert last.startswith("Posted on ") and ": posted" not in last  # "Posted on Thu 01 Jan 2026"
    lobby = gone.guild.create_text_channel("lobby")
    shown = await gone.admin.slash(lobby, "digest show")
    fields = {f.name: f.value for f in shown.response.embeds[0].fields}
    assert fields["Status"].startswith("⏸️ Paused") and "deleted" in fields["Why paused"]
    assert fields["Last post"].startswith("Could not post on ")
    resumed = await gone.admin.slash(lobby, "digest setup", channel=lobby, time="10:00", timezone="UTC")
    assert resumed.ephemeral
    await until(env, 10, 0)
    assert len(digest_messages(lobby)) == 1  # set up again: today's post still comes, once


async def test_preview_is_private_and_post_now_is_not_repeated(digest_env: Any) -> None:
    env = digest_env
    s = server(env, "preview")
    await s.admin.slash(
        s.channel, "digest setup", channel=s.channel, time="18:00", timezone="UTC", thread=True
    )
    preview = await s.admin.slash(s.channel, "digest preview")
    assert preview.ephemeral and "ThinK" in preview.response.embeds[1].description
    assert digest_messages(s.channel) == []
    now = await s.admin.slash(s.channel, "digest post-now")
    assert "Posted" in now.response.content
    [post] = digest_messages(s.channel)
    assert [t.name for t in s.channel.threads] == ["Papers of 01 January 2026"]
    shown = await s.admin.slash(s.channel, "digest show")
    tomorrow = datetime(2026, 1, 2, 18, 0, tzinfo=UTC)  # today's post is out: the next is tomorrow's
    assert {f.name: f.value for f in shown.response.embeds[0].fields}["Next post"] == (
        f"<t:{int(tomorrow.timestamp())}:F>"
    )
    again = await s.admin.slash(s.channel, "digest post-now")
    assert "already" in again.response.content
    await until(env, 18, 0)
    assert digest_messages(s.channel) == [post]


async def test_pause_and_resume(digest_env: Any) -> None:
    env = digest_env
    s = server(env, "pausing")
    await s.admin.slash(s.channel, "digest setup", channel=s.channel, time="09:00", timezone="UTC")
    await s.admin.slash(s.channel, "digest pause")
    await until(env, 9, 0)
    assert digest_messages(s.channel) == []
    resumed = await s.admin.slash(s.channel, "digest resume")
    assert "back on" in resumed.response.content
    await cog(env).post_due()
    assert len(digest_messages(s.channel)) == 1


async def test_a_list_repeating_the_day_before_is_a_note_not_a_repost(
    digest_env: Any, services: Services
) -> None:
    env = digest_env
    s = server(env, "stale")
    await s.admin.slash(s.channel, "digest setup", channel=s.channel, time="09:00", timezone="UTC")
    await until(env, 9, 0)
    tomorrow = NEW_YEAR + timedelta(days=1)
    # The source publishes "tomorrow's" list, but it is yesterday's papers again.
    fixture = (FIXTURES / "hf_daily_2024-07-31.json").read_bytes()
    await services.papers.ingest(parse_hf_api(fixture, list_date=tomorrow))
    # The post after it covers that list once it is complete (the day after).
    await until(env, 9, 0, tomorrow + timedelta(days=1))
    posts = digest_messages(s.channel)
    assert len(posts) == 2
    assert "repeats the one before" in posts[1].embeds[0].description
    assert len(posts[1].embeds) == 1  # a note only: the papers are not posted again
