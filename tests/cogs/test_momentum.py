"""/papers top and /papers rising over a week of recorded lists whose upvotes grow (simcord's clock)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from typer.testing import CliRunner

from bot.cli import app
from bot.services.container import Services
from tests.momentum_lists import Recorded, listed, refetch_week

D1 = date(2026, 1, 1)  # simcord's clock starts at 2026-01-01 00:00 UTC
FETCH_HOURS = (8, 20)  # the refresh re-fetches the last 7 lists twice a day


def day(n: int) -> date:
    return D1 + timedelta(days=n - 1)


OLD_HIT = Recorded("2601.00001", "Old Hit", day(1), lambda k: min(300, 100 + 50 * k))
STEADY = Recorded("2601.00002", "Steady Climber", day(4), lambda k: 10 + 10 * k)
WARM = Recorded("2601.00003", "Warm Start", day(5), lambda k: 20 + 15 * k)
QUIET = Recorded("2601.00004", "Quiet Corner", day(6), lambda k: 3)
ROCKET = Recorded("2601.00005", "Fresh Rocket", day(7), lambda k: 5 + 25 * k)
LAST_MONTH = Recorded("2512.00006", "Last Month Classic", date(2025, 12, 22), lambda k: 1000)
WEEK = [OLD_HIT, STEADY, WARM, QUIET, ROCKET]


async def replay_week(env: Any, services: Services, until: datetime) -> None:
    """Every fetch of the week up to ``until``: each re-fetches the last 7 days' lists."""
    await services.papers.ingest(listed([LAST_MONTH], LAST_MONTH.listed, lambda p: 0))
    moment = datetime(2026, 1, 1, 8, tzinfo=UTC)
    while moment <= until:
        await env.advance_time((moment - env.now()).total_seconds())
        await refetch_week(services, WEEK, moment)
        moment += timedelta(hours=12)


def titles(embed: Any) -> list[str]:
    return [line.split("[", 1)[1].split("]", 1)[0] for line in embed.description.splitlines() if "**" in line]


async def test_a_week_of_growing_lists_gives_top_and_rising(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    end = datetime(2026, 1, 7, 20, tzinfo=UTC)
    await replay_week(env, services, end)

    top = await alice.slash(channel, "papers top", period="week")
    [embed] = top.response.embeds
    assert titles(embed) == ["Old Hit", "Warm Start", "Steady Climber", "Fresh Rocket", "Quiet Corner"]
    assert "▲ 300" in embed.description and "▲ 95" in embed.description
    assert f"Counts updated <t:{int(end.timestamp())}:R>" in embed.description
    assert "2026-01-01 to 2026-01-07" in embed.description
    assert embed.footer.text == "Page 1/1 · top 5 of 5 listed papers"

    month = await alice.slash(channel, "papers top", period="month")
    assert titles(month.response.embeds[0])[:2] == ["Last Month Classic", "Old Hit"]

    one_day = await alice.slash(channel, "papers top", period="day:2026-01-04")
    assert titles(one_day.response.embeds[0]) == ["Steady Climber"]

    rising = await alice.slash(channel, "papers rising")
    [embed] = rising.response.embeds
    # Fresh Rocket: +30 on its first day; Warm Start +30 over 3 days; Steady +20 over 4 days.
    # Old Hit stopped growing, Quiet Corner never did.
    assert titles(embed) == ["Fresh Rocket", "Warm Start", "Steady Climber"]
    assert "+30 in 24 h" in embed.description and "+20 in 24 h" in embed.description


async def test_rising_midweek_sees_only_the_last_day(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    await replay_week(env, services, datetime(2026, 1, 2, 8, tzinfo=UTC))
    rising = await alice.slash(channel, "papers rising")
    # Only Old Hit was listed: 100 at 08:00 yesterday (the cutoff), 200 now.
    [embed] = rising.response.embeds
    assert titles(embed) == ["Old Hit"]
    assert "+100 in 24 h · ▲ 200" in embed.description


async def test_rankings_are_paginated_and_bad_periods_explained(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    crowd = [Recorded(f"2601.{i:05d}", f"Crowd Paper {i}", day(3), lambda k, i=i: i) for i in range(10, 35)]
    await env.advance_time(timedelta(days=3, hours=9).total_seconds())
    await services.papers.ingest(listed(crowd, day(3), lambda p: 0))
    result = await alice.slash(channel, "papers top", period="week")
    message = result.response.message
    first = result.response.embeds[0]
    assert first.footer.text == "Page 1/3 · top 25 of 25 listed papers"
    assert titles(first)[0] == "Crowd Paper 34"
    await alice.click(message, label="Next")
    assert titles(channel.last_message.embeds[0])[0] == "Crowd Paper 24"

    bad = await alice.slash(channel, "papers top", period="fortnight")
    assert bad.ephemeral and "is not a period" in bad.response.content
    nothing = await alice.slash(channel, "papers top", period="day:2025-06-01")
    assert nothing.ephemeral and "No daily list" in nothing.response.content
    assert [type(e.original).__name__ for e in env.errors] == ["InvalidInput", "NoListing"]
    await env.advance_time(timedelta(days=2).total_seconds())  # no fetch since: nothing gained
    quiet = await alice.slash(channel, "papers rising")
    assert quiet.ephemeral and "No paper gained upvotes" in quiet.response.content

    choices = await alice.autocomplete(channel, "papers top", "period", "day")
    assert {c["value"] for c in choices} >= {"day", "day:2026-01-03"}


async def test_the_cli_prints_the_same_ranking_as_the_command(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    await replay_week(env, services, datetime(2026, 1, 7, 20, tzinfo=UTC))
    command = titles((await alice.slash(channel, "papers top", period="week")).response.embeds[0])
    at_date = titles((await alice.slash(channel, "papers top", period="week:2026-01-07")).response.embeds[0])

    db = services.database.path
    # The CLI runs its own event loop, as it does from a shell: give it a thread.
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["top", "--week", "--until", "2026-01-07", "--json", "--db", db]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert [p["title"] for p in printed["papers"]] == command == at_date
    assert [p["upvotes"] for p in printed["papers"]] == [300, 95, 80, 30, 3]
    assert printed["updated_at"] == "2026-01-07T20:00:00+00:00"
    table = await asyncio.to_thread(CliRunner().invoke, app, ["top", "--until", "2026-01-07", "--db", db])
    assert table.exit_code == 0 and "Old Hit" in table.output and "counts updated 2026-01-07" in table.output
    month = await asyncio.to_thread(
        CliRunner().invoke, app, ["top", "--month", "--until", "2026-01-07", "--json", "--db", db]
    )
    assert json.loads(month.output)["papers"][0]["title"] == "Last Month Classic"
