"""What /help and /about say, as plain data: the command list laid out in fields, and what paperbot
keeps about a member.

The command list is built from the command tree each time (see cogs/meta.py), never kept by hand:
a new command appears in /help the moment it is loaded. A command may carry a curated example in
its ``extras["example"]``; without one, an example is made from its required options.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.domain.layout import truncate

# What the store holds about a member (the tables in bot/storage/migrations that have a user id).
# Keep in step with new tables: tests/cogs/test_meta.py checks each member table is named here.
MEMBER_DATA = (
    "your Discord user id, and the servers where you used /follow or saved a paper",
    "the keywords you follow, your alert mode (instant or daily, time, time zone) and pauses",
    "which papers were sent to you by DM, so none comes twice, and which new versions and code"
    " links of your saved papers you were told about",
    "whether your DMs were closed to the bot",
    "the papers you saved to your library, with your read marks, tags and notes",
    "whether you want weekly picks by DM, the week they last came, and each week's picks DM"
    " (the papers in it, whether it arrived)",
    "your 👍 votes on digest papers, per server",
    "the digests you set up, to tell you by DM when one could not be posted, and those DMs",
)
MEMBER_TABLES = (
    "members",
    "member_guilds",
    "follows",
    "alerts",
    "alert_batches",
    "library_updates",
    "library",
    "library_settings",
    "weekly_picks_sends",
    "votes",
    "digest_admins",
    "notice_batches",  # target_id: the admin a missed-day DM went to
)
NOT_KEPT = "No message content, names or avatars: commands are answered and forgotten."
FORGET_POINTER = "`/privacy forget` deletes everything paperbot keeps about you."


@dataclass(frozen=True, slots=True)
class CommandHelp:
    name: str  # qualified: "papers search"
    description: str
    example: str  # as typed in Discord: "/papers search query:diffusion models"

    @property
    def group(self) -> str:
        return self.name.split(" ", 1)[0]


def synthesized_example(name: str, required: Sequence[str]) -> str:
    """``/name option:<option> …`` for a command without a curated example."""
    return " ".join([f"/{name}", *(f"{option}:<{option}>" for option in required)])


def help_fields(commands: Sequence[CommandHelp], *, value_limit: int) -> list[tuple[str, str]]:
    """(field name, field value) per command group, in name order; a group too long for one field
    continues in the next ("papers (more)"), never cut mid-command."""
    fields: list[tuple[str, str]] = []
    for group in sorted({c.group for c in commands}):
        value, title = "", f"/{group}"
        for command in sorted((c for c in commands if c.group == group), key=lambda c: c.name):
            entry = truncate(f"`/{command.name}` {command.description}\n↳ `{command.example}`", value_limit)
            if value and len(value) + 1 + len(entry) > value_limit:
                fields.append((title, value))
                value, title = "", f"/{group} (more)"
            value = f"{value}\n{entry}" if value else entry
        fields.append((title, value))
    return fields


def format_uptime(uptime: timedelta) -> str:
    minutes = max(0, int(uptime.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours or days) + [f"{minutes} min"]
    return " ".join(parts)


def format_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")
