"""Weekly digests over recorded lists whose upvotes grow (simcord's virtual clock, from Thursday
2026-01-01 00:00 UTC): the week's top papers by their latest counts, once per ISO week, across
restarts, with the catch-up rules of bot.domain.weekly."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import discord
import pytest

from bot.client import PaperBot
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.database import Database
from tests.cogs.test_delivery_matrix import Killed, inject
from tests.cogs.test_digest import Server, server
from tests.momentum_lists import Recorded, refetch_week

OLD_HIT = Recorded("2601.00001", "Old Hit", date(2026, 1, 1), lambda k: min(300, 100 + 50 * k))
STEADY = Recorded("2601.00002", "Steady Climber", date(2026, 1, 4), lambda k: 10 + 10 * k)
WARM = Recorded("2601.00003", "Warm Start", date(2026, 1, 5), lambda k: 20 + 15 * k)
QUIET = Recorded("2601.00004", "Quiet Corner", date(2026, 1, 6), lambda k: 3)
ROCKET = Recorded("2601.00005", "Fresh Rocket", date(2026, 1, 7), lambda k: 5 + 25 * k)
PAPERS = [OLD_HIT, STEADY, WARM, QUIET, ROCKET]
MONDAY_2 = date(2026, 1, 5)  # ISO week 2; the week before (week 1) holds Old Hit and Steady Climber


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


async def fetch_until(env: Any, services: Services, until: datetime) -> None:
    """The source schedule's fetches (08:00 and 20:00, the last 7 days' lists) up to ``until``;
    the bot runs no digest job meanwhile (it is down, or it is not the posting time)."""
    moment = at(env.now().date(), 8)
    while moment <= until:
        if moment >= env.now():
            await env.advance_time((moment - env.now()).total_seconds())
            await refetch_week(services, PAPERS, moment)
        moment += timedelta(hours=12)
    await env.advance_time((until - env.now()).total_seconds())


async def post_due(env: Any) -> None:
    await env.bot.get_cog("Digest").post_due()


def weekly_posts(channel: Any) -> list[discord.Message]:
    return [
        m for m in channel.history() if m.embeds and (m.embeds[0].footer.text or "").startswith("digest · ")
    ]


def titles(post: discord.Message) -> list[str]:
    text = "\n".join(e.description or "" for e in post.embeds[1:])
    return re.findall(r"^\*\*\d+\. \[(.+?)\]\(", text, flags=re.MULTILINE)


async def weekly(s: Server, **options: Any) -> Any:
    at_nine_utc = {"time": "09:00", "timezone": "UTC"}
    return await s.admin.slash(
        s.channel, "digest setup", channel=s.channel, cadence="weekly", **at_nine_utc | options
    )


async def test_a_weekly_digest_posts_the_weeks_top_once_per_week_across_restarts(
    world: Any, services: Services
) -> None:
    env = world[0]
    s = server(env, "weekly")
    shown = await weekly(s, weekday="mon")
    fields = {f.name: f.value for f in shown.response.embeds[0].fields}
    assert shown.response.embeds[0].title == "Weekly digest" and fields["When"] == "09:00 UTC, Mondays"

    await fetch_until(env, services, at(MONDAY_2, 9))
    await post_due(env)
    [first] = weekly_posts(s.channel)
    # Title and footer name the week the lists cover (ISO week 1: 29 December - 4 January), not
    # week 2 it is posted in (the ledger's key).
    assert first.embeds[0].title == "📚 Papers of the week · 2026 week 1"
    assert first.embeds[0].footer.text == "digest · 2026 week 1"
    assert "Monday 29 December – Sunday 04 January 2026" in first.embeds[0].description
    assert titles(first) == ["Old Hit", "Steady Climber"]
    assert "▲ 300" in first.embeds[1].description  # the latest count, not the first fetch's 100

    for moment in (at(MONDAY_2, 9, 30), at(MONDAY_2 + timedelta(days=2), 12)):
        await env.restart_bot(PaperBot(services=services, settings=env.bot.settings))
        await fetch_until(env, services, moment)
        await post_due(env)
    assert weekly_posts(s.channel) == [first]

    await fetch_until(env, services, at(MONDAY_2 + timedelta(days=7), 9))
    await post_due(env)
    await env.restart_bot(PaperBot(services=services, settings=env.bot.settings))
    await fetch_until(env, services, at(MONDAY_2 + timedelta(days=8), 9))
    await post_due(env)
    first_again, second = weekly_posts(s.channel)
    assert first_again == first and second.embeds[0].footer.text == "digest · 2026 week 2"
    # Ranked by the counts as they are on Monday 12th: Fresh Rocket overtook Warm Start.
    assert titles(second) == ["Fresh Rocket", "Warm Start", "Quiet Corner"]


async def test_after_post_now_digest_show_says_next_weeks_post(world: Any, services: Services) -> None:
    env = world[0]
    s = server(env, "early")
    await weekly(s, weekday="fri")
    await fetch_until(env, services, at(MONDAY_2, 12))  # Monday of week 2, before Friday's post
    now = await s.admin.slash(s.channel, "digest post-now")
    assert "Posted this week's digest" in now.response.content
    shown = await s.admin.slash(s.channel, "digest show")
    fields = {f.name: f.value for f in shown.response.embeds[0].fields}
    # Week 2's post went out: the next one is week 3's Friday (the 16th), not this Friday the 9th.
    next_friday = at(MONDAY_2 + timedelta(days=11), 9)
    assert fields["Next post"] == f"<t:{int(next_friday.timestamp())}:F>"


async def test_a_weekly_post_missed_on_monday_goes_out_once_later_that_week(
    world: Any, services: Services
) -> None:
    env = world[0]
    s = server(env, "sleepy")
    await weekly(s, weekday="mon", max_papers=1)
    # The bot is down all Monday; it is back on Wednesday afternoon.
    await fetch_until(env, services, at(MONDAY_2 + timedelta(days=2), 15))
    await post_due(env)
    await post_due(env)
    [post] = weekly_posts(s.channel)
    assert post.embeds[0].footer.text == "digest · 2026 week 1"
    assert "Monday 29 December – Sunday 04 January 2026" in post.embeds[0].description  # the same week
    assert titles(post) == ["Old Hit"] and "(top 1 of 2)" in post.embeds[0].description


async def test_a_week_missed_entirely_comes_with_the_next_weeks_post(world: Any, services: Services) -> None:
    env = world[0]
    s = server(env, "away")
    await weekly(s, weekday="mon")
    await fetch_until(env, services, at(MONDAY_2, 9))
    await post_due(env)
    # Down from Monday 5th until Monday 19th 09:00: week 3's post (due on the 12th) never went out.
    await fetch_until(env, services, at(MONDAY_2 + timedelta(days=14), 9))
    await post_due(env)
    first, late = weekly_posts(s.channel)
    assert late.embeds[0].footer.text == "digest · 2026 weeks 2–3"
    assert late.embeds[0].title == "📚 Papers of the week · 2026 weeks 2–3"
    assert "missed while the bot was away" in late.embeds[0].description
    assert "Monday 05 January – Sunday 18 January 2026" in late.embeds[0].description
    assert titles(late) == ["Fresh Rocket", "Warm Start", "Quiet Corner"]
    assert not set(titles(first)) & set(titles(late))  # nothing posted twice


async def test_a_weekly_topic_digest_beside_a_daily_one_in_the_same_server(
    world: Any, services: Services
) -> None:
    env = world[0]
    s = server(env, "both")
    weekly_channel = s.guild.create_text_channel("weekly-rockets")
    await s.admin.slash(s.channel, "digest setup", channel=s.channel, time="09:00", timezone="UTC")
    await s.admin.slash(
        s.channel,
        "digest setup",
        channel=weekly_channel,
        time="10:00",
        timezone="UTC",
        cadence="weekly",
        weekday="mon",
        topic="rocket OR corner",
    )
    await fetch_until(env, services, at(MONDAY_2 + timedelta(days=7), 10))
    await post_due(env)
    [post] = weekly_posts(weekly_channel)
    assert titles(post) == ["Fresh Rocket", "Quiet Corner"]
    assert "Topic: corner OR rocket" in post.embeds[0].description  # canonical order
    assert weekly_posts(s.channel) == []  # the daily digest keeps its own daily posts


async def test_options_that_mean_nothing_for_the_cadence_are_refused(world: Any, services: Services) -> None:
    env = world[0]
    s = server(env, "options")
    daily_on_a_weekday = await s.admin.slash(
        s.channel, "digest setup", channel=s.channel, time="09:00", timezone="UTC", weekday="wed"
    )
    assert (
        daily_on_a_weekday.ephemeral
        and "weekday is for weekly digests" in daily_on_a_weekday.response.content
    )
    for option in ({"weekdays_only": True}, {"list": "so-far"}):
        refused = await weekly(s, **option)
        assert refused.ephemeral and "leave out weekdays_only and list" in refused.response.content
    assert await services.digests.configs(s.guild.id) == []
    assert len(env.errors) == 3


async def test_a_post_at_the_weeks_boundary_names_one_week_in_title_and_footer(
    world: Any, services: Services
) -> None:
    """Monday 00:30 on Kiritimati (UTC+14) is Sunday 10:30 UTC: the post's ledger key is its local
    ISO week 3, its lists the seven UTC days before (Sunday 4 - Saturday 10 January, across weeks
    1 and 2). The member reads those days in the title and in the footer alike (the footer said
    "digest 2026-W03", a week none of its papers were listed in)."""
    env = world[0]
    s = server(env, "dateline")
    await weekly(s, weekday="mon", time="00:30", timezone="Pacific/Kiritimati")
    await fetch_until(env, services, at(MONDAY_2 + timedelta(days=6), 10, 30))
    await post_due(env)
    [post] = weekly_posts(s.channel)
    assert post.embeds[0].title == "📚 Papers of the week · 04 January – 10 January 2026"
    assert post.embeds[0].footer.text == "digest · 04 January – 10 January 2026"
    assert "Sunday 04 January – Saturday 10 January 2026" in post.embeds[0].description
    # Exactly-once is unchanged: the ledger's key is still the local week it is posted in.
    # (The week before, whose post time passed while the test ran no posts, is recorded as missed.)
    ledger = await services.database.connection.fetch_all(
        "SELECT post_day, state FROM digest_posts WHERE channel_id = ? ORDER BY post_day", (s.channel.id,)
    )
    assert [tuple(row) for row in ledger] == [("2026-01-05", "skipped"), ("2026-01-12", "posted")]


async def test_a_weekly_post_sent_but_never_recorded_is_found_by_its_footer_and_not_sent_again(
    world: Any, services: Services, settings: Settings
) -> None:
    """A process killed between Discord creating the post and recording it: the next process
    finds it (by its nonce and by the frozen plan's footer, now the covered week's rather than the
    ledger key's; tests/domain/test_weekly_label checks the footer read-back on its own) and does
    not post it twice."""
    env = world[0]
    s = server(env, "crashy")
    await weekly(s, weekday="mon")
    await fetch_until(env, services, at(MONDAY_2, 9))
    inject(env, env.bot.get_cog("Digest").poster, 1, "kill")
    with pytest.raises(Killed):
        await post_due(env)
    [sent] = weekly_posts(s.channel)

    database = await Database.open(services.database.path)
    try:
        restarted = await Services.open(database, settings, clock=services.clock)
        await env.restart_bot(PaperBot(services=restarted, settings=settings))
        await env.advance_time(settings.delivery.lease_seconds + 1)  # the dead process's lease ran out
        await post_due(env)
        assert weekly_posts(s.channel) == [sent]
        ledger = await database.connection.fetch_all(
            "SELECT state, message_ids FROM digest_posts WHERE channel_id = ?", (s.channel.id,)
        )
        assert [row[0] for row in ledger] == ["posted"] and str(sent.id) in str(ledger[0][1])
    finally:
        await database.close()
