"""A running process says once when shards of its layout run in no process (one of the processes
stopped and was not started again: its servers silently get no digest and no command answer), and
once when every shard runs again."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot import runner
from bot.domain.shards import ShardPlan


class ScriptedClaims:
    """Renewals that succeed while the script lasts, each seeing the next set of unrun shards."""

    def __init__(self, unrun: list[tuple[int, ...]]) -> None:
        self.plan = ShardPlan(6, (0, 1))
        self._unrun = iter(unrun)
        self._next: tuple[int, ...] | None = None

    async def keep(self) -> bool:
        self._next = next(self._unrun, None)
        return self._next is not None

    async def unrun(self) -> tuple[int, ...]:
        assert self._next is not None
        return self._next


class StoppedBot:
    closed = False

    async def close(self) -> None:
        self.closed = True


async def test_unrun_shards_are_warned_once_and_their_return_said_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(runner, "RENEW_EVERY", timedelta(0))
    claims = ScriptedClaims([(), (4, 5), (4, 5), (4, 5), (), (), (5,), (5,)])
    bot = StoppedBot()
    with caplog.at_level(logging.INFO, logger=runner.log.name):
        await runner.keep_shards(bot, claims)  # type: ignore[arg-type]
    said = [(r.levelname, r.getMessage()) for r in caplog.records if "shard" in r.getMessage()]
    assert said[:3] == [
        (
            "WARNING",
            "shards 4-5 of 6 run in no process: their servers get no digest and no command answer. "
            "Start `paperbot run --shard-count 6 --shards 4-5`",
        ),
        ("INFO", "every shard of 6 runs in a process again"),
        (
            "WARNING",
            "shard 5 of 6 runs in no process: its servers get no digest and no command answer. "
            "Start `paperbot run --shard-count 6 --shards 5`",
        ),
    ]
    # The script ran out: the renewal failed as if another process took the shards over.
    assert said[3][0] == "ERROR" and len(said) == 4 and bot.closed
