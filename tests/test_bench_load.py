"""`bench load` measures the bot, not itself: its probes stay within what the bot may send, and it
reports the stalls the bot logged."""

from __future__ import annotations

from discord.gateway import GatewayRatelimiter

from bench.load import PROBE_EVERY, gc_pauses_logged, stalls_logged
from bot.loop_watch import Collection, Stall, StallTracker
from bot.sandbox.gateway import HEARTBEAT_MS


def test_heartbeat_probes_leave_the_bot_room_in_its_gateway_budget() -> None:
    # Each probe makes the bot send a heartbeat through discord.py's limiter; probing twice a second
    # used it up and stalled the bot's gateway reader 55 s into every run (interactions arrived late).
    budget = GatewayRatelimiter()
    probes_per_window = budget.per / PROBE_EVERY
    own_heartbeats = budget.per / (HEARTBEAT_MS / 1000)
    assert probes_per_window + own_heartbeats <= 0.6 * budget.max


def test_the_longest_logged_stall_is_reported_with_where_the_loop_was() -> None:
    short = Stall(0.6, [("  a.py:1 quick", 3)], []).describe()
    long = Stall(2.5, [("  search.py:90 refresh", 20)], []).describe()
    log = "\n".join(
        [
            f"2026-01-01 00:00:00,000 WARNING bot.loop_watch [-] {short}",
            "2026-01-01 00:00:01,000 INFO bot.client [-] command /papers search",
            f"2026-01-01 00:00:02,000 WARNING bot.loop_watch [-] {long}",
            "2026-01-01 00:00:03,000 INFO bot.client [-] command /papers show",
        ]
    )

    stalls, longest = stalls_logged(log)

    assert stalls == [0.6, 2.5]
    assert "stalled for 2.50 s" in longest and "search.py:90 refresh" in longest
    assert "papers show" not in longest


def test_the_bots_pause_summary_is_read_from_its_log() -> None:
    tracker = StallTracker()
    tracker.on_collection(Collection(2, 0.12, 0))
    log = "\n".join(
        [
            "2026-01-01 00:00:00,000 INFO bot.client [-] command /papers search",
            f"2026-01-01 00:00:01,000 INFO bot.loop_watch [-] {tracker.pauses.describe()}",
            "2026-01-01 00:00:01,000 INFO bot.runner [-] stopped: database closed",
        ]
    )
    assert gc_pauses_logged(log) == tracker.pauses.describe()
    assert gc_pauses_logged("nothing logged") == ""
