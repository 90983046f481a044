"""The event-loop stall watch: a stalled loop is logged with how long and where it was, so an
operator (and `bench load`) can see what starved the gateway and every interaction at once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from typing import Any

from bot import loop_watch
from bot.loop_watch import Collection, LoopWatch, Stall, StallTracker


def test_beats_on_time_report_nothing() -> None:
    tracker = StallTracker(threshold=0.5, beat=0.1)
    for tick in range(20):
        assert tracker.on_beat(tick * 0.1) is None
    assert tracker.stalls == 0 and tracker.longest == 0.0


def test_a_late_beat_is_a_stall_with_where_the_loop_was_most_often() -> None:
    tracker = StallTracker(threshold=0.5, beat=0.1)
    tracker.on_beat(10.0)
    assert not tracker.overdue(10.2)
    assert tracker.overdue(10.5)
    for stack in ("vocabulary build", "vocabulary build", "json encode"):
        tracker.on_sample(stack)

    stall = tracker.on_beat(12.1)

    assert stall is not None and abs(stall.seconds - 2.0) < 1e-9
    assert stall.stacks == [("vocabulary build", 2), ("json encode", 1)]
    assert tracker.stalls == 1 and abs(tracker.longest - 2.0) < 1e-9
    assert "event loop stalled for 2.00 s" in stall.describe() and "seen 2x in:\nvocabulary build" in (
        stall.describe()
    )
    # The next stall starts with a clean slate.
    assert tracker.on_beat(12.2) is None


def test_a_long_garbage_collection_is_named_and_short_ones_are_not() -> None:
    tracker = StallTracker(threshold=0.5, beat=0.1)
    tracker.on_beat(0.0)
    tracker.on_collection(Collection(generation=0, seconds=0.001, collected=10))
    tracker.on_collection(Collection(generation=2, seconds=1.2, collected=3))

    stall = tracker.on_beat(1.4)

    assert stall is not None
    assert stall.collections == [Collection(2, 1.2, 3)]
    assert "garbage collection of generation 2: 1.20 s" in stall.describe()


async def test_the_watch_reports_a_blocking_call_on_the_loop_and_names_it() -> None:
    sampled = threading.Event()

    class Tracker(StallTracker):
        def on_sample(self, stack: str) -> None:
            super().on_sample(stack)
            # Seen stalled *inside* the blocking call: it may end. (A busy machine can delay a beat
            # just past the sampling point before the call starts; that sample must not count.)
            # And overdue past the threshold by now, so the beat that ends the stall reports it.
            last = self._last_beat
            overdue = last is not None and time.monotonic() - last - self.beat > self.threshold
            if "blocking_call_on_the_loop" in stack and overdue:
                sampled.set()

    reported: list[Stall] = []
    stall_reported = asyncio.Event()

    def report(stall: Stall) -> None:
        reported.append(stall)
        if any("blocking_call_on_the_loop" in stack for stack, _ in stall.stacks):
            stall_reported.set()

    watch = LoopWatch(Tracker(threshold=0.02, beat=0.01), report=report)
    watch.start()
    try:
        await asyncio.sleep(0)

        def blocking_call_on_the_loop() -> None:
            assert sampled.wait(timeout=30), "the watch never sampled the stalled loop"

        blocking_call_on_the_loop()
        await asyncio.wait_for(stall_reported.wait(), 30)  # the next beat reports it
    finally:
        watch.stop()

    # The stall the blocking call caused names it as where the loop was seen most (a busy machine
    # may add stalls of its own, seen in the selector, before it).
    caused = [stall for stall in reported if "blocking_call_on_the_loop" in str(stall.stacks)]
    assert "blocking_call_on_the_loop" in caused[0].stacks[0][0]
    assert watch.tracker.longest > 0.02


def test_a_collection_starting_inside_a_beat_does_not_freeze_the_loop(monkeypatch: Any) -> None:
    """A garbage collection can start at any allocation, so also while ``on_beat`` swaps its
    records, and its callback reports to the tracker on the same thread (the bench's emulator
    froze this way for good under load: nothing answered, the bot's gateway timed out)."""
    tracker = StallTracker(threshold=0.5, beat=0.1)
    tracker.on_beat(10.0)

    def counter_during_a_collection(*args: Any) -> Counter[str]:
        tracker.on_collection(Collection(generation=2, seconds=1.5, collected=3))
        return Counter(*args)

    monkeypatch.setattr(loop_watch, "Counter", counter_during_a_collection)
    stalls: list[Stall | None] = []
    beat = threading.Thread(target=lambda: stalls.append(tracker.on_beat(12.0)), daemon=True)
    beat.start()
    beat.join(timeout=30)  # a guard for the failure (the thread waiting for itself), not a timing

    assert not beat.is_alive()
    stall = stalls[0]
    assert stall is not None and abs(stall.seconds - 1.9) < 1e-9
    assert stall.collections == [Collection(generation=2, seconds=1.5, collected=3)]


def test_collection_pauses_are_summed_per_generation_in_buckets() -> None:
    tracker = StallTracker(threshold=0.5)
    for generation, seconds in ((0, 0.0004), (0, 0.003), (0, 0.0005), (2, 0.3), (2, 0.8)):
        tracker.on_collection(Collection(generation, seconds, 0))
    summary = tracker.pauses.describe()
    assert "generation 0: 3 collections, 0.00 s in all, longest 3 ms (<=1 ms 2, <=10 ms 1)" in summary
    assert "generation 2: 2 collections, 1.10 s in all, longest 800 ms (<=500 ms 1, >500 ms 1)" in summary
    assert "generation 1" not in summary


async def test_the_pause_summary_is_logged_when_the_watch_stops(caplog: Any) -> None:
    import logging

    watch = LoopWatch()
    watch.start()
    watch.tracker.on_collection(Collection(1, 0.02, 5))
    with caplog.at_level(logging.INFO, logger="bot.loop_watch"):
        watch.stop(summary=True)
    assert "garbage collection pauses:\n  generation 1: 1 collections" in caplog.text
