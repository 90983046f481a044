"""Setting up or editing a digest never posts at once: catch-up is for downtime, and the reply says
when the next post really goes out (simcord's virtual clock starts on Thursday 2026-01-01 00:00 UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

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
