"""Discord's sharding rules, as the emulator's gateway enforces them.

A server belongs to shard ``(guild_id >> 22) % shard_count``; DMs come on shard 0. An IDENTIFY
names its shard as ``[shard_id, shard_count]`` (none: ``[0, 1]``); an impossible pair closes the
connection with 4010 (Invalid shard), and a session that would hold more servers than one shard
may closes with 4011 (Sharding required). IDENTIFYs are rate limited per bucket
``shard_id % max_concurrency``: one per bucket every 5 seconds; a faster one is answered with
op 9 (Invalid Session), and the bot must wait and identify again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

IDENTIFY_WINDOW_SECONDS = 5.0  # one IDENTIFY per bucket per window
GUILDS_PER_SHARD_LIMIT = 2500  # more on one session: 4011 Sharding required
RECOMMENDED_GUILDS_PER_SHARD = 1000  # what /gateway/bot's "shards" recommends
INVALID_SHARD = 4010
SHARDING_REQUIRED = 4011


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The shard that receives a server's events; DMs (no server) go to shard 0."""
    return 0 if guild_id is None else (guild_id >> 22) % shard_count


def guild_id_on_shard(shard_id: int, shard_count: int, *, near: int) -> int:
    """A snowflake after ``near`` (time-ordered, like Discord's) whose server lives on ``shard_id``.

    Discord spreads servers over shards by their creation time (the high bits); servers a test
    makes in one millisecond would all share a shard, so a test places them explicitly."""
    stamp = near >> 22
    stamp += (shard_id - stamp) % shard_count
    return (stamp << 22) | (near & 0x3FFFFF)


def recommended_shards(guild_count: int) -> int:
    return max(1, -(-guild_count // RECOMMENDED_GUILDS_PER_SHARD))


@dataclass(frozen=True, slots=True)
class ShardSpec:
    shard_id: int
    shard_count: int

    def owns(self, guild_id: int | None) -> bool:
        return shard_of(guild_id, self.shard_count) == self.shard_id


class InvalidShard(ValueError):
    """The IDENTIFY's ``shard`` is not a pair 0 <= id < count."""


def parse_shard(value: object) -> ShardSpec:
    """The ``shard`` field of an IDENTIFY, checked as Discord checks it."""
    if value is None:
        return ShardSpec(0, 1)
    if not (isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value)):
        raise InvalidShard(f"shard must be [shard_id, shard_count], got {value!r}")
    shard_id, shard_count = value
    if shard_count < 1 or not 0 <= shard_id < shard_count:
        raise InvalidShard(f"shard {shard_id} of {shard_count} does not exist")
    return ShardSpec(shard_id, shard_count)


class IdentifyLimiter:
    """One IDENTIFY per ``shard_id % max_concurrency`` bucket per window (the clock is injected, so a
    test moves time instead of waiting)."""

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        max_concurrency: int = 1,
        window: float = IDENTIFY_WINDOW_SECONDS,
    ) -> None:
        self.clock = clock
        self.max_concurrency = max_concurrency
        self.window = window
        self._last: dict[int, float] = {}  # bucket -> when its last IDENTIFY was accepted

    def admit(self, shard_id: int) -> bool:
        """Whether an IDENTIFY for ``shard_id`` may start a session now (and count it if so)."""
        bucket = shard_id % self.max_concurrency
        now = self.clock()
        last = self._last.get(bucket)
        if last is not None and now - last < self.window:
            return False
        self._last[bucket] = now
        return True
