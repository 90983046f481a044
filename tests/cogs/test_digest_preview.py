"""/digest preview shows exactly the post /digest post-now then sends: one period choice, one
layout (simcord's virtual clock starts on Thursday 2026-01-01 00:00 UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.cogs.test_digest import digest_messages, server, until


async def test_preview_is_exactly_what_post_now_posts_then_says_it_is_posted(digest_env: Any) -> None:
    env = digest_env
    s = server(env, "previewing")
    await until(env, 16, 0)  # today's 09:00 passed before the digest existed: no scheduled post today
    await s.admin.slash(
        s.channel, "digest setup", channel=s.channel, time="09:00", timezone="UTC", list="so-far"
    )
    preview = await s.admin.slash(s.channel, "digest preview")
    shown = [embed.to_dict() for embed in preview.response.embeds]
    assert shown[0]["footer"]["text"].startswith("digest 2026-01-01")
    now = await s.admin.slash(s.channel, "digest post-now")
    assert "Posted" in now.response.content
    [post] = digest_messages(s.channel)
    assert [embed.to_dict() for embed in post.embeds] == shown
    again = await s.admin.slash(s.channel, "digest preview")
    tomorrow = int(datetime(2026, 1, 2, 9, tzinfo=UTC).timestamp())
    assert again.response.content == (
        f"Today's digest in <#{s.channel.id}> is already posted: post-now would not post it again. "
        f"Next post: <t:{tomorrow}:F>."
    )
