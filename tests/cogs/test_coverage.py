"""What each digest post covers, through simcord on its virtual clock (Thursday 2026-01-01 00:00
UTC at the start), against a loopback Hugging Face API replaying a real day's list as it grows
(12 papers in the morning, 40 by the evening; upvotes move too)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import discord

from bot.domain.digest import digest_marker, parse_part, part_footer
from bot.services.container import Services
from tests.hf_api import FakeHfApi, hf_item, morning_of, recorded_day

LIVE_SOURCES = True  # the services fetch from the loopback API of the hf_api fixture
THURSDAY = date(2026, 1, 1)


def digest_posts(channel: Any) -> list[discord.Message]:
    return [
        m for m in channel.history() if m.embeds and (m.embeds[0].footer.text or "").startswith("digest ")
    ]


def post_of(channel: Any, day: date) -> list[discord.Message]:
    """The messages (parts) of the post for ``day``."""
    marker = digest_marker(day)
    return [m for m in digest_posts(channel) if parse_part(m.embeds[0].footer.text or "", marker)]


def titles(posts: list[discord.Message]) -> list[str]:
    """Every paper title the posts carry, in order (entries are ``**N. [title](url)**``)."""
    text = "\n".join(
        e.description or ""
        for post in posts
        for e in post.embeds[(0 if post.embeds[0].title is None else 1) :]
    )
    return re.findall(r"^\*\*\d+\. \[(.+?)\]\(", text, flags=re.MULTILINE)


def header(post: discord.Message) -> str:
    return f"{post.embeds[0].title}\n{post.embeds[0].description}"


def day_titles(items: list[dict[str, Any]]) -> set[str]:
    return {" ".join(item["paper"]["title"].split()) for item in items}


async def at(env: Any, day: date, hour: int, minute: int = 0) -> None:
    """Advance to an instant (UTC) and run the bot's jobs as the schedulers would."""
    target = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
    await env.advance_time((target - env.now()).total_seconds())
    await env.bot.get_cog("Digest").post_due()


async def set_up(env: Any, services: Services, **options: Any) -> Any:
    guild = env.create_guild(name="lab")
    channel = guild.create_text_channel("papers")
    await services.digests.configure(
        guild.id, channel.id, post_time="09:00", timezone="UTC", **{"max_papers": 50, **options}
    )
    return channel


async def test_the_next_morning_post_has_the_whole_list_of_the_day_before(
    world: Any, services: Services, hf_api: FakeHfApi
) -> None:
    env = world[0]
    finished = recorded_day()
    await at(env, THURSDAY, 8, 0)  # set up after Thursday's post time: the first post is Friday's
    hf_api.lists[THURSDAY] = morning_of(finished)
    assert await env.bot.get_cog("Sources").run_due() == 12  # the 08:00 scheduled fetch: 12 so far
    channel = await set_up(env, services)
    await at(env, THURSDAY, 20, 0)
    hf_api.lists[THURSDAY] = finished  # by the evening the list has grown to 40
    await at(env, THURSDAY + timedelta(days=1), 9, 0)
    post = post_of(channel, THURSDAY + timedelta(days=1))
    assert post == digest_posts(channel)
    assert set(titles(post)) == day_titles(finished)  # all 40, re-fetched just before posting
    assert "Thursday 01 January 2026" in header(post[0]) and "40 papers" in header(post[0])
    described = "".join(e.description or "" for m in post for e in m.embeds)
    upvotes = [int(v) for v in re.findall(r"▲ (\d+)", described)]
    assert upvotes == sorted(upvotes, reverse=True) and upvotes[0] == 77  # current upvotes, ranked


async def test_so_far_posts_the_morning_list_then_the_rest_none_twice(
    world: Any, services: Services, hf_api: FakeHfApi
) -> None:
    env = world[0]
    finished = recorded_day()
    hf_api.lists[THURSDAY] = morning_of(finished)
    channel = await set_up(env, services, list_mode="so-far")
    await at(env, THURSDAY, 9, 0)
    [morning] = digest_posts(channel)
    assert len(titles([morning])) == 12
    assert "so far" in header(morning) and "next post" in header(morning)
    hf_api.lists[THURSDAY] = finished
    await at(env, THURSDAY + timedelta(days=1), 9, 0)
    later = post_of(channel, THURSDAY + timedelta(days=1))
    assert len(titles(later)) == 28
    everything = titles(digest_posts(channel))
    assert len(everything) == len(set(everything)) == 40  # every listed paper once
    assert set(everything) == day_titles(finished)


async def test_monday_with_weekdays_only_covers_friday_to_sunday(
    world: Any, services: Services, hf_api: FakeHfApi
) -> None:
    env = world[0]
    friday, saturday, sunday, monday = (THURSDAY + timedelta(days=n) for n in (1, 2, 3, 4))
    hf_api.add(THURSDAY, hf_item("2601.00100", "Thursday Paper", upvotes=5))
    channel = await set_up(env, services, weekdays_only=True)
    await at(env, friday, 9, 0)
    assert titles(digest_posts(channel)) == ["Thursday Paper"]
    hf_api.add(friday, hf_item("2601.00200", "Friday Paper", upvotes=3))
    hf_api.add(saturday, hf_item("2601.00300", "Saturday Paper", upvotes=9))
    hf_api.add(sunday, hf_item("2601.00400", "Sunday Paper", upvotes=1))
    await at(env, saturday, 9, 0)
    await at(env, sunday, 9, 0)
    assert len(digest_posts(channel)) == 1  # no posts at the weekend
    await at(env, monday, 9, 0)
    monday_post = digest_posts(channel)[-1]
    assert titles([monday_post]) == ["Saturday Paper", "Friday Paper", "Sunday Paper"]  # by upvotes
    assert "Friday 02 January – Sunday 04 January 2026" in header(monday_post)
    assert "The lists of Friday 02 January, Saturday 03 January and Sunday 04 January" in header(monday_post)


async def test_three_days_down_give_one_post_covering_them(
    world: Any, services: Services, hf_api: FakeHfApi
) -> None:
    env = world[0]
    channel = await set_up(env, services, max_papers=3)
    days = [THURSDAY + timedelta(days=n) for n in range(6)]  # Thursday to Tuesday
    for n, day in enumerate(days):
        papers = (hf_item(f"2601.0{n}{k:03d}", f"Day {n} paper {k}", upvotes=k + n) for k in range(2))
        hf_api.add(day, *papers)
    await at(env, days[1], 9, 0)  # Friday's post covers Thursday
    # Down from Friday 09:30 to Tuesday 08:59: the posts of Saturday, Sunday and Monday are missed.
    await env.advance_time((datetime(2026, 1, 6, 8, 59, tzinfo=UTC) - env.now()).total_seconds())
    await at(env, days[5], 9, 0)
    first, after = digest_posts(channel)
    # One post: the lists of the three missed posts' days and its own (Friday to Monday), ranked.
    assert "Friday 02 January – Monday 05 January 2026" in header(after)
    assert "top 3 of 8" in header(after) and "`/papers today` with `day:` 2026-01-02" in header(after)
    assert titles([after]) == ["Day 4 paper 1", "Day 4 paper 0", "Day 3 paper 1"]
    assert not set(titles([first])) & set(titles([after]))


async def test_a_restart_mid_post_sends_the_frozen_plan(
    world: Any, services: Services, hf_api: FakeHfApi
) -> None:
    env = world[0]
    finished = recorded_day()
    hf_api.lists[THURSDAY] = finished
    channel = await set_up(env, services)
    repository = services.digests.repository
    original = repository.record_part
    calls = 0

    async def crash_after_part_one(*args: Any, **kwargs: Any) -> bool:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise RuntimeError("killed after part 1")
        return await original(*args, **kwargs)

    repository.record_part = crash_after_part_one  # type: ignore[method-assign]
    await at(env, THURSDAY + timedelta(days=1), 9, 0)
    sent = digest_posts(channel)
    assert len(sent) == 2  # part 2 reached Discord, its record did not
    repository.record_part = original  # type: ignore[method-assign]
    # Meanwhile the list is re-ranked and grows: the resumed post must not notice.
    regrown = [{**item, "paper": {**item["paper"], "upvotes": 100 - n}} for n, item in enumerate(finished)]
    hf_api.lists[THURSDAY] = [*reversed(regrown), hf_item("2601.09999", "A Very Late Addition", upvotes=500)]
    await services.fetcher.fetch_day(THURSDAY)  # type: ignore[union-attr]
    await at(env, THURSDAY + timedelta(days=1), 9, 5)
    posts = digest_posts(channel)
    everything = titles(posts)
    assert len(everything) == len(set(everything)) == 40  # each paper once, none lost
    assert "A Very Late Addition" not in everything
    marker = digest_marker(THURSDAY + timedelta(days=1))
    footers = [p.embeds[0].footer.text for p in posts]
    assert footers == [part_footer(marker, n, len(posts)) for n in range(1, len(posts) + 1)]


async def test_preview_shows_exactly_the_next_post(world: Any, services: Services, hf_api: FakeHfApi) -> None:
    env = world[0]
    hf_api.lists[THURSDAY] = recorded_day()
    await env.bot.get_cog("Sources").run_due()  # the schedule fetched Thursday's list
    channel = await set_up(env, services, max_papers=7)
    admins = channel.guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True))
    admin = channel.guild.add_member(env.create_user("admin"), roles=[admins])
    # Before Friday's post time, Friday's is the post /digest post-now would send: the preview.
    await at(env, THURSDAY + timedelta(days=1), 8, 0)
    preview = await admin.slash(channel, "digest preview")
    assert preview.ephemeral
    await at(env, THURSDAY + timedelta(days=1), 9, 0)
    [post] = digest_posts(channel)
    shown = [(e.title, e.description) for e in preview.response.embeds]
    assert shown == [(e.title, e.description) for e in post.embeds]
    assert "top 7 of 40" in header(post)


async def test_a_first_post_from_an_old_list_says_its_date_and_age(
    world: Any, services: Services, hf_api: FakeHfApi
) -> None:
    env = world[0]
    monday = THURSDAY - timedelta(days=3)
    hf_api.add(monday, hf_item("2512.00001", "An Older Paper", upvotes=2))
    await services.fetcher.fetch_day(monday)  # type: ignore[union-attr]
    channel = await set_up(env, services)
    await at(env, THURSDAY, 9, 0)
    [post] = digest_posts(channel)
    assert titles([post]) == ["An Older Paper"]
    assert "The newest list there is, from Monday 29 December 2025 (3 days old)" in header(post)
    # Over a week old: not posted, a note says why.
    other = await set_up(env, services)
    await at(env, THURSDAY + timedelta(days=8), 9, 0)
    note = digest_posts(other)[-1]
    assert titles([note]) == [] and "days old" in header(note)


async def test_post_now_on_a_missed_day_records_what_it_covered_so_the_next_post_does_not_repeat_it(
    world: Any, services: Services, hf_api: FakeHfApi
) -> None:
    env = world[0]
    friday, saturday, sunday = (THURSDAY + timedelta(days=n) for n in (1, 2, 3))
    for n, day in enumerate((THURSDAY, friday, saturday)):
        hf_api.add(
            day, *(hf_item(f"2601.0{n}{k:03d}", f"Day {n} paper {k}", upvotes=k + n) for k in range(2))
        )
    channel = await set_up(env, services, max_papers=3)
    await at(env, friday, 9, 0)  # Friday's post covers Thursday
    # Down from Saturday before 09:00 until 16:00: Saturday's post is recorded as not posted ...
    await env.advance_time((datetime(2026, 1, 3, 16, 0, tzinfo=UTC) - env.now()).total_seconds())
    await at(env, saturday, 16, 0)
    config = await services.digests.require(channel.guild.id, channel.id)
    assert saturday in [m.post_day for m in (await services.digests.status(config)).missed]
    # ... and the admin posts it with /digest post-now: Friday's list.
    posted = await services.digests.post_now(config, env.bot.get_cog("Digest").poster)
    assert posted.state == "posted"
    assert titles(post_of(channel, saturday)) == ["Day 1 paper 1", "Day 1 paper 0"]
    await at(env, sunday, 9, 0)
    sunday_post = post_of(channel, sunday)
    # Sunday's post covers Saturday only: Friday's papers were posted by post-now, not again.
    assert titles(sunday_post) == ["Day 2 paper 1", "Day 2 paper 0"], titles(sunday_post)
    assert "Saturday 03 January 2026" in header(sunday_post[0])
