"""A digest day that is not posted is never skipped silently, whatever skipped it: paperbot down
past the grace window, the channel deleted (10003), the permission lost (50013) or access lost
(50001). /digest show names the day and why, and the admin who set the digest up is told once: by
DM, or (DMs closed) in the channel once it can be posted in. Once also across a second process,
repeated ticks and retries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import discord
import pytest

from bot.errors import StorageUnavailable
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.database import Database
from bot.storage.postgres import UNREACHABLE
from tests.cogs.conftest import VirtualClock
from tests.cogs.test_digest import NEW_YEAR, cog, digest_messages, server, until

KINDS = ("offline", "10003", "50013", "50001")
WHY = {
    "offline": "paperbot was not running at its time (09:00 UTC) or within 6 hours after it",
    "10003": "deleted",
    "50013": "may not post",
    "50001": "",
}


def notices(channel: Any) -> list[discord.Message]:
    return [
        m
        for m in channel.history()
        if m.embeds and "missed digest" in (m.embeds[0].footer.text or "") and m.embeds[0].title
    ]


def lose_the_channel(env: Any, channel: Any, kind: str) -> None:
    if kind == "10003":
        env.backend.delete_channel(channel.id)
    else:
        env.inject_error("POST", f"/channels/{channel.id}/messages", status=403, code=int(kind), times=None)


async def shown(s: Any, where: Any) -> dict[str, str]:
    answer = await s.admin.slash(where, "digest show")
    return {f.name: f.value for f in answer.response.embeds[0].fields}


async def every_other_way_to_tell_again(
    env: Any, database: Database, settings: Settings, clock: VirtualClock
) -> None:
    """Ticks again, a second process on the same store, and the retry windows passing."""
    await cog(env).post_due()
    second = await Services.open(database, settings, clock=clock)
    await second.digests.run_due(cog(env).poster)
    await second.digest_notices.deliver(cog(env).messenger, cog(env).poster)
    await env.advance_time(timedelta(hours=2).total_seconds())
    await cog(env).post_due()
    await second.digest_notices.deliver(cog(env).messenger, cog(env).poster)


@pytest.mark.parametrize("dms", ["open", "closed"])
@pytest.mark.parametrize("kind", KINDS)
async def test_a_day_not_posted_is_shown_and_its_admin_told_once(
    digest_env: Any, database: Database, settings: Settings, clock: VirtualClock, kind: str, dms: str
) -> None:
    env = digest_env
    s = server(env, "lab")
    lobby = s.guild.create_text_channel("lobby")
    await s.admin.slash(s.channel, "digest setup", channel=s.channel, time="09:00", timezone="UTC")
    admin_dms = s.admin.user.dm_channel
    if dms == "closed":
        env.inject_error("POST", f"/channels/{admin_dms.id}/messages", status=403, code=50007, times=None)
    if kind == "offline":
        await until(env, 16, 0)  # the bot was down from before 09:00 until 16:00 (grace: 6 hours)
    else:
        lose_the_channel(env, s.channel, kind)
        await env.settle()
        await until(env, 9, 0)

    fields = await shown(s, lobby)
    assert fields["Not posted"].startswith("Thu 01 Jan: ") and WHY[kind] in fields["Not posted"]
    await every_other_way_to_tell_again(env, database, settings, clock)

    told = [m for m in admin_dms.history() if m.embeds and m.embeds[0].title == "📭 A digest was not posted"]
    said = [] if kind == "10003" else notices(s.channel)
    if dms == "open":
        assert len(told) == 1 and said == []
        text = told[0].embeds[0].description or ""
        assert "Thu 01 Jan 2026" in text and f"<#{s.channel.id}>" in text and WHY[kind] in text
        return
    assert told == []
    if kind == "offline":  # the channel works: it says so there, once
        assert len(said) == 1 and "Thu 01 Jan 2026" in (said[0].embeds[0].description or "")
        assert len(digest_messages(s.channel)) == 0
        return
    assert said == []  # nowhere to say it yet: /digest show does (above)
    if kind == "10003":
        return
    # Two days later the admin gives the permission back and resumes: the channel hears it once.
    env.backend.faults[:] = [f for f in env.backend.faults if str(s.channel.id) not in f["path"]]
    await env.advance_time(timedelta(days=2).total_seconds())
    await s.admin.slash(lobby, "digest resume", channel=str(s.channel.id))
    await until(env, 8, 0, NEW_YEAR + timedelta(days=3))
    await every_other_way_to_tell_again(env, database, settings, clock)
    said = notices(s.channel)
    assert len(said) == 1 and "Thu 01 Jan 2026" in (said[0].embeds[0].description or "")


async def test_a_day_posted_late_within_grace_is_not_reported(digest_env: Any) -> None:
    env = digest_env
    s = server(env, "late")
    await s.admin.slash(s.channel, "digest setup", channel=s.channel, time="09:00", timezone="UTC")
    await until(env, 14, 0)  # down at 09:00, back within the grace window: posted, nothing missed
    assert len(digest_messages(s.channel)) == 1
    assert "Not posted" not in await shown(s, s.channel)
    assert [m for m in s.admin.user.dm_channel.history() if m.embeds] == []


async def test_post_now_posts_a_missed_day_once_and_it_is_no_longer_listed(digest_env: Any) -> None:
    env = digest_env
    s = server(env, "manual")
    await s.admin.slash(s.channel, "digest setup", channel=s.channel, time="09:00", timezone="UTC")
    await until(env, 16, 0)  # down past the grace window: recorded as not posted
    before = await shown(s, s.channel)
    assert before["Last post"].startswith("Not posted on Thu 01 Jan 2026") and "Not posted" in before
    preview = await s.admin.slash(s.channel, "digest preview")
    assert "already posted" not in (preview.response.content or "")
    posted = await s.admin.slash(s.channel, "digest post-now")
    assert "Posted today's digest" in posted.response.content
    again = await s.admin.slash(s.channel, "digest post-now")
    assert "already posted" in again.response.content
    assert len(digest_messages(s.channel)) == 1
    after = await shown(s, s.channel)
    assert "Not posted" not in after and after["Last post"].startswith("Posted on Thu 01 Jan 2026")


async def test_the_store_down_while_telling_admins_is_one_line_a_spell_not_a_traceback_a_tick(
    digest_env: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL restarting: the due digests' lookup said so in one line, but telling the admins
    of days not posted raised on every tick, a traceback each from the scheduler (one a minute
    for the whole outage; two a second at the e2e tick)."""
    env = digest_env
    notices = env.bot.services.digest_notices

    async def store_down(*args: object, **kwargs: object) -> int:
        raise StorageUnavailable(UNREACHABLE)

    monkeypatch.setattr(notices, "deliver", store_down)
    with caplog.at_level("WARNING", logger="cogs.digest"):
        for _ in range(3):  # three ticks of the outage
            await cog(env).post_due()
    said = [r for r in caplog.records if r.name == "cogs.digest"]
    assert [r.levelname for r in said] == ["WARNING"] and UNREACHABLE in said[0].getMessage()
    assert said[0].exc_info is None
