"""Which Discord shards a process runs, and so which servers are its own.

Discord splits a bot's servers over ``shard_count`` shards: a server is on shard
``(guild_id >> 22) % shard_count``, and DMs arrive on shard 0. Several ``paperbot run`` processes
share the shards between them (``--shard-count 6 --shards 0-1``); each posts the digests of its
own servers only, while alert DMs and the source schedule are shared through the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import InvalidInput

MAX_SHARD_COUNT = 10_000  # far beyond any bot: Discord's largest run a few thousand shards
_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")


def shard_of(guild_id: int, shard_count: int) -> int:
    return (guild_id >> 22) % shard_count


@dataclass(frozen=True, slots=True)
class ShardPlan:
    """The shards this process runs out of ``count``; ``count`` None: every shard Discord
    recommends (one process serves everything, the default)."""

    count: int | None = None
    ids: tuple[int, ...] = ()

    @property
    def everything(self) -> bool:
        return self.count is None or len(self.ids) == self.count

    def owns(self, guild_id: int) -> bool:
        """Whether this process serves ``guild_id`` (posts its digest, answers its commands)."""
        if self.count is None:
            return True
        return shard_of(guild_id, self.count) in self.ids

    def share_start(self) -> float:
        """Where in a shared work list (alert DMs due) this process starts, as a fraction: its
        first shard's place among all shards, so processes begin apart (0 unsharded)."""
        if self.count is None or not self.ids:
            return 0.0
        return self.ids[0] / self.count

    def describe(self) -> str:
        if self.count is None:
            return "all shards (as many as Discord recommends)"
        return f"shards {format_shard_ids(self.ids)} of {self.count}"


def format_shard_ids(ids: tuple[int, ...]) -> str:
    """``0-2,5``: runs of consecutive ids as ranges."""
    runs: list[list[int]] = []
    for shard in ids:
        if runs and shard == runs[-1][-1] + 1:
            runs[-1].append(shard)
        else:
            runs.append([shard])
    return ",".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


CLI_NAMES = ("--shard-count", "--shards")


def parse_shard_ids(text: str, count: int, *, names: tuple[str, str] = CLI_NAMES) -> tuple[int, ...]:
    """``0,1``, ``0-2`` or a mix (``0-1,4``) -> sorted shard ids, each below ``count`` and named
    once. A clear InvalidInput for anything else (it names what was wrong and what would do): a
    shard named twice (``0,0``, ``0-2,1``) is a typo for another shard more often than not, and
    would leave that one unserved by anyone. ``names``: what the user called the count and the
    shards (CLI options or config keys)."""
    shards_name = names[1]
    if not text.strip():
        raise InvalidInput(f"{shards_name} is empty: give shard ids like 0,1 or a range like 0-{count - 1}.")
    ids: dict[int, str] = {}  # shard -> the piece that named it
    for piece in (p.strip() for p in text.split(",")):
        match = _RANGE.match(piece)
        if match:
            first, last = int(match[1]), int(match[2])
            if first > last:
                raise InvalidInput(
                    f"{shards_name}: the range {piece!r} runs backwards; write it {last}-{first}."
                )
            if last >= count:
                raise InvalidInput(_beyond(last, count, names))
            named = range(first, last + 1)
        elif piece.isdigit() and piece.isascii():
            if int(piece) >= count:
                raise InvalidInput(_beyond(int(piece), count, names))
            named = range(int(piece), int(piece) + 1)
        else:
            raise InvalidInput(
                f"{shards_name}: {piece!r} is not a shard id or range; write e.g. 0,1 or 0-{count - 1}."
            )
        for shard in named:
            if shard in ids:
                where = "twice" if ids[shard] == piece else f"in {ids[shard]!r} and in {piece!r}"
                raise InvalidInput(f"{shards_name}: shard {shard} is given {where}; name each shard once.")
            ids[shard] = piece
    return tuple(sorted(ids))


def _beyond(shard: int, count: int, names: tuple[str, str]) -> str:
    count_name, shards_name = names
    return f"{shards_name}: there is no shard {shard} with {count_name} {count} (shards are 0-{count - 1})."


def shard_plan(count: int | None, shards: str | None, *, names: tuple[str, str] = CLI_NAMES) -> ShardPlan:
    """The plan from ``--shard-count``/``--shards`` (or the shard_count/shards settings)."""
    count_name, shards_name = names
    if count is None:
        if shards is not None and shards.strip():
            raise InvalidInput(f"{shards_name} needs {count_name}: how many shards the bot has in all.")
        return ShardPlan()
    if not 1 <= count <= MAX_SHARD_COUNT:
        raise InvalidInput(f"{count_name} must be between 1 and {MAX_SHARD_COUNT}, got {count}.")
    if shards is None:
        return ShardPlan(count, tuple(range(count)))
    return ShardPlan(count, parse_shard_ids(shards, count, names=names))


IDENTIFY_WINDOW_SECONDS = 5.0  # Discord: max_concurrency IDENTIFYs per 5 s


class IdentifyPacer:
    """When each shard may IDENTIFY: one per bucket (``shard_id % max_concurrency``) per 5 s, as
    Discord allows. Shards in different buckets start together (a large bot's 16 at once); a shard
    identifying again (a reconnect, or Invalid Session because another process used the bucket)
    waits a whole window first, so processes sharing a bucket take turns instead of colliding."""

    def __init__(self, max_concurrency: int = 1, *, window: float = IDENTIFY_WINDOW_SECONDS) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self.window = window
        self._next: dict[int, float] = {}  # bucket -> earliest time of its next IDENTIFY
        self._identified: set[int] = set()

    def reserve(self, shard_id: int, now: float) -> float:
        """Seconds ``shard_id`` waits before its IDENTIFY; the slot is taken."""
        bucket = shard_id % self.max_concurrency
        at = self._next.get(bucket, now)
        if shard_id in self._identified:
            at = max(at, now + self.window)
        at = max(at, now)
        self._next[bucket] = at + self.window
        self._identified.add(shard_id)
        return at - now
