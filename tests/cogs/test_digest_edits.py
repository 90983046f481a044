"""Setting up or editing a digest never posts at once: catch-up is for downtime, and the reply says
when the next post really goes out (simcord's virtual clock starts on Thursday 2026-01-01 00:00 UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.cogs.test_digest import NEW_YEAR, cog, digest_messages, server, until


def next_post_field(reply: Any) -> str:
    return {f.name: f.value for f in reply.response.embeds[0].fields}["Next post"]


def stamp(year: int, month: int, day: int, hour: int, minute: int = 0) -> str:
    return f"<t:{int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp())}:F>"


async def test_a_digest_set_up_after_its_time_first_posts_tomorrow_as_its_reply_says(digest_env: Any) -> None:
    env = digest_env
    s = server(env, "late")
    await until(env, 10, 0)
    reply = await s.admin.slash(s.channel, "digest setup", channel=s.channel, time="09:00", timezone="UTC")
    assert next_post_field(reply) == stamp(2026, 1, 2, 9)
    await cog(env).post_due()
    await until(env, 15, 0)  # still within the six hours a missed post may be caught up
    assert digest_messages(s.channel) == []
    await until(env, 9, 0, NEW_YEAR + timedelta(days=1))
    assert len(digest_messages(s.channel)) == 1


async def test_editing_time_zone_then_cadence_never_posts_again_and_says_the_real_next_post(
    digest_env: Any,
) -> None:
    env = digest_env
    s = server(env, "editing")
    setup = ("digest setup",)
    await s.admin.slash(s.channel, *setup, channel=s.channel, time="09:00", timezone="UTC")
    await until(env, 9, 0)
    assert len(digest_messages(s.channel)) == 1  # Thursday's post, at its time
    # Another zone where Thursday's 09:00 is still to come: Thursday is posted, so Friday it is.
    later_zone = await s.admin.slash(
        s.channel, *setup, channel=s.channel, time="09:00", timezone="America/New_York"
    )
    assert next_post_field(later_zone) == stamp(2026, 1, 2, 14)  # 09:00 in New York
    # A zone already on Friday, whose Friday post time (10:30 UTC) passed a moment ago: not now.
    await until(env, 11, 0)
    ahead = await s.admin.slash(
        s.channel, *setup, channel=s.channel, time="00:30", timezone="Pacific/Kiritimati"
    )
    assert next_post_field(ahead) == stamp(2026, 1, 2, 10, 30)  # Saturday 00:30 on Kiritimati
    await cog(env).post_due()
    # Weekly on Thursdays at 09:00 UTC: this week's time passed before the switch: next Thursday.
    weekly = await s.admin.slash(
        s.channel, *setup, channel=s.channel, time="09:00", timezone="UTC", cadence="weekly", weekday="thu"
    )
    assert next_post_field(weekly) == stamp(2026, 1, 8, 9)
    await until(env, 16, 0)
    assert len(digest_messages(s.channel)) == 1  # three edits within the hour: still one post
    await until(env, 9, 0, NEW_YEAR + timedelta(days=7))
    assert len(digest_messages(s.channel)) == 2


def fields(reply: Any) -> dict[str, str]:
    return {f.name: f.value for f in reply.response.embeds[0].fields}


async def test_setting_up_again_keeps_every_option_left_out_and_the_reply_lists_them(digest_env: Any) -> None:
    """The trial: a topic digest set up again with cadence:weekly and no topic became a general one."""
    env = digest_env
    s = server(env, "kept")
    setup = ("digest setup",)
    first = await s.admin.slash(
        s.channel,
        *setup,
        channel=s.channel,
        time="09:00",
        timezone="UTC",
        topic="扩散 OR Straße",
        max_papers=7,
        thread=True,
        weekdays_only=True,
        list="so-far",
    )
    shown = fields(first)
    topic = shown["Topic"]  # canonical form, as /follow add folds it
    assert "strasse" in topic and "扩" in topic and shown["Papers"] == "up to 7 · thread"
    # Only the time changes: everything else as it was.
    retimed = fields(await s.admin.slash(s.channel, *setup, channel=s.channel, time="10:00", timezone="UTC"))
    assert retimed["Topic"] == topic and retimed["Papers"] == "up to 7 · thread"
    assert retimed["When"] == "10:00 UTC, weekdays" and retimed["List"].startswith("so-far")
    # To weekly: the topic, count and thread stay; the daily-only options do not carry over.
    weekly = fields(
        await s.admin.slash(
            s.channel, *setup, channel=s.channel, time="09:00", timezone="UTC", cadence="weekly"
        )
    )
    assert weekly["Topic"] == topic and weekly["Papers"] == "up to 7 · thread"
    assert weekly["When"] == "09:00 UTC, Mondays"
    # topic:* drops the topic, and the reply says every paper.
    general = fields(
        await s.admin.slash(s.channel, *setup, channel=s.channel, time="09:00", timezone="UTC", topic="*")
    )
    assert general["Topic"].startswith("every paper") and general["When"] == "09:00 UTC, Mondays"
    config = await cog(env).service.config(s.channel.guild.id, s.channel.id)
    assert config is not None and config.topic is None and config.max_papers == 7 and config.thread


@pytest.mark.parametrize("removed_first", [False, True], ids=["edited", "removed-then-set-up"])
async def test_a_zone_moved_back_a_day_after_todays_post_posts_the_next_local_day_as_the_reply_says(
    digest_env: Any, removed_first: bool
) -> None:
    """The trial: a UTC digest posted at 00:05 on Thursday (Wednesday afternoon in Los Angeles);
    set up again for Los Angeles a minute ahead, it posted a back-dated empty note at once and then
    never posted Thursday in Los Angeles. Wednesday there is posted: the next post is Thursday's.
    The same when the admin removed the digest first (its ledger stays, on the old calendar)."""
    env = digest_env
    s = server(env, "zones")
    setup = ("digest setup",)
    await s.admin.slash(s.channel, *setup, channel=s.channel, time="00:05", timezone="UTC")
    await until(env, 0, 5)
    assert [m.embeds[0].footer.text for m in digest_messages(s.channel)] == ["digest 2026-01-01"]
    await until(env, 0, 12)
    if removed_first:
        await s.admin.slash(s.channel, "digest remove", channel=str(s.channel.id))
    moved = fields(
        await s.admin.slash(
            s.channel, *setup, channel=s.channel, time="16:13", timezone="America/Los_Angeles"
        )
    )
    await until(env, 0, 14)
    await until(env, 23, 0)
    assert len(digest_messages(s.channel)) == 1  # no second post on Wednesday (Los Angeles)
    await until(env, 0, 14, NEW_YEAR + timedelta(days=1))
    footers = [m.embeds[0].footer.text for m in digest_messages(s.channel)]
    assert footers == ["digest 2026-01-01", "digest 2026-01-01"]  # Thursday in UTC, then in Los Angeles
    shown = fields(await s.admin.slash(s.channel, "digest show"))
    assert "Not posted" not in shown and shown["Next post"] == stamp(2026, 1, 3, 0, 13)
    # What the reply said at the change is what happened.
    assert moved["Today"] == "Wed 31 Dec: posted at 16:05."
    assert moved["Next post"] == stamp(2026, 1, 2, 0, 13)  # Thursday 16:13 in Los Angeles
    assert "Posting now" not in moved


async def test_a_time_moved_before_now_on_a_day_not_posted_says_so_and_post_now_still_posts_it(
    digest_env: Any,
) -> None:
    env = digest_env
    s = server(env, "earlier")
    setup = ("digest setup",)
    await s.admin.slash(s.channel, *setup, channel=s.channel, time="18:00", timezone="UTC")
    await until(env, 14, 0)
    earlier = fields(await s.admin.slash(s.channel, *setup, channel=s.channel, time="10:00", timezone="UTC"))
    shown = fields(await s.admin.slash(s.channel, "digest show"))
    assert "Thu 01 Jan: the digest's settings were changed" in shown.get("Not posted", "")
    assert earlier["Next post"] == stamp(2026, 1, 2, 10)
    assert earlier["Today"].startswith(
        "Thu 01 Jan: not posted (the digest's settings were changed at 14:00 UTC"
    )
    assert "`/digest post-now` posts it now" in earlier["Today"]
    await until(env, 18, 0)
    assert digest_messages(s.channel) == []  # not at the old time either
    posted = await s.admin.slash(s.channel, "digest post-now")
    assert "Posted today's digest" in (posted.response.content or "")
    assert len(digest_messages(s.channel)) == 1


async def test_a_digest_set_up_for_the_current_minute_says_its_time_is_now_not_that_the_bot_was_offline(
    digest_env: Any,
) -> None:
    env = digest_env
    s = server(env, "now")
    await until(env, 9, 0)
    reply = fields(
        await s.admin.slash(s.channel, "digest setup", channel=s.channel, time="09:00", timezone="UTC")
    )
    assert reply["Posting now"] == "the post for Thu 01 Jan: its time, 09:00, is now"
    assert reply["Today"] == "Thu 01 Jan: going out now."
    await cog(env).post_due()
    assert len(digest_messages(s.channel)) == 1


async def test_a_post_caught_up_after_downtime_says_how_late_it_is(digest_env: Any) -> None:
    env = digest_env
    s = server(env, "late")
    await s.admin.slash(s.channel, "digest setup", channel=s.channel, time="09:00", timezone="UTC")
    await env.advance_time(timedelta(hours=10, minutes=30).total_seconds())  # no tick ran since 09:00
    shown = fields(await s.admin.slash(s.channel, "digest show"))
    assert shown["Posting now"] == (
        "the post for Thu 01 Jan: its time, 09:00, passed 1 h 30 min ago: a post that late still goes out"
    )
    await cog(env).post_due()
    assert len(digest_messages(s.channel)) == 1
