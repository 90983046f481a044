"""The trial's scenario with the real `paperbot run` and the loopback Discord: a UTC digest posts,
then the admin moves it to a time zone already on another day, its time set to the current minute.
That local day was posted (at the UTC post's instant): nothing is posted again, by the running
process or by a new one catching up, and the reply says so and when the next post goes out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.sandbox.emulator import DiscordEmulator
from tests.e2e.conftest import HANG_GUARD, BotProcess, Lab, run_cli, served, start_bot
from tests.e2e.test_bot_process import digest_posts

# The trial's zone when its day differs from UTC's (00:00-07:59 UTC), else one that does: the
# change then moves the post to another local day whichever hour the test runs at.
ZONES = ("America/Los_Angeles", "Etc/GMT+12", "Pacific/Kiritimati")


def zone_on_another_day(now: datetime) -> str:
    return next(zone for zone in ZONES if now.astimezone(ZoneInfo(zone)).date() != now.date())


async def test_a_zone_change_after_todays_post_posts_nothing_again_and_says_when_the_next_post_is(
    emulator: DiscordEmulator, bot_env: dict[str, str], tmp_path: Path, bots: list[BotProcess], lab: Lab
) -> None:
    emu, channel, admin = emulator, lab.channel, lab.admin
    await run_cli(bot_env, tmp_path, "ingest")
    await run_cli(bot_env, tmp_path, "sync")
    bot = await start_bot(bot_env, tmp_path, bots)
    now = datetime.now(UTC)
    await served(emu, admin, channel, "digest setup", channel=channel, time=f"{now:%H:%M}", timezone="UTC")
    await emu.wait_for(lambda: digest_posts(emu, channel), wait=HANG_GUARD)

    zone = zone_on_another_day(datetime.now(UTC))
    local = datetime.now(ZoneInfo(zone))
    moved = await served(
        emu, admin, channel, "digest setup", channel=channel, time=f"{local:%H:%M}", timezone=zone
    )
    # Stopped and started again: the new process catches up at once whatever is due. Nothing is,
    # and the process that ran through the change posted nothing either.
    await bot.kill()
    restarted = await start_bot(bot_env, tmp_path, bots)
    assert "digest catch-up at start: 0 posted" in await restarted.wait_for_log("digest catch-up at start")
    assert len(digest_posts(emu, channel)) == 1

    fields = {f["name"]: f["value"] for f in moved.response["embeds"][0]["fields"]}
    assert "Posting now" not in fields
    assert fields["Today"].startswith(f"{local:%a %d %b}: posted at ")
    tomorrow = datetime.combine(
        local.date() + timedelta(days=1), local.time().replace(second=0, microsecond=0)
    )
    expected = tomorrow.replace(tzinfo=ZoneInfo(zone))
    assert fields["Next post"] == f"<t:{int(expected.timestamp())}:F>"
