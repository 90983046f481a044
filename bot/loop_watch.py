"""Event-loop stall watch: when the loop stops turning for longer than a threshold, log how long
and where it was.

A stalled loop starves everything on it at once (gateway heartbeats, every interaction's 3 s), and
the cause is gone by the time anyone looks. So a small thread watches a beat the loop keeps:
while the beat is overdue the thread samples the loop thread's Python stack, and when the loop
turns again the stall is logged with the stacks it was seen in most. A garbage collection holds
the GIL (the thread cannot sample during it), so collections are timed by a gc callback and named
in the report instead.

``StallTracker`` is the pure part (times are passed in); ``LoopWatch`` wires it to a loop, a
thread and ``gc.callbacks``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

STALL_SECONDS = 0.5  # a loop overdue by this much is reported (a heartbeat or an answer is at risk)
BEAT_SECONDS = 0.1  # how often the loop shows it is turning, and how often the thread looks
STACK_DEPTH = 6  # innermost frames kept per sample: enough to name the call, short enough to group


@dataclass(frozen=True, slots=True)
class Collection:
    generation: int
    seconds: float
    collected: int


@dataclass(frozen=True, slots=True)
class Stall:
    seconds: float
    stacks: list[tuple[str, int]]  # (innermost frames, times sampled), most sampled first
    collections: list[Collection]  # garbage collections that ran during the stall

    def describe(self) -> str:
        parts = [f"event loop stalled for {self.seconds:.2f} s"]
        for gc_run in self.collections:
            parts.append(
                f"garbage collection of generation {gc_run.generation}: {gc_run.seconds:.2f} s "
                f"({gc_run.collected:,} objects freed)"
            )
        for stack, count in self.stacks[:3]:
            parts.append(f"seen {count}x in:\n{stack}")
        return "; ".join(parts[:1]) + ("\n" + "\n".join(parts[1:]) if len(parts) > 1 else "")


# Upper bounds (ms) of the pause buckets the summary counts collections in.
PAUSE_BUCKETS_MS = (1, 10, 50, 100, 250, 500)


@dataclass
class CollectionPauses:
    """How long the garbage collector held the process, per generation: the pause distribution a
    ``gc.set_threshold`` choice is judged by (``paperbot run`` logs it when it stops)."""

    counts: dict[int, list[int]] = field(default_factory=dict)  # generation -> per-bucket counts
    longest: dict[int, float] = field(default_factory=dict)  # generation -> seconds
    total: dict[int, float] = field(default_factory=dict)

    def add(self, collection: Collection) -> None:
        generation, ms = collection.generation, collection.seconds * 1000
        buckets = self.counts.setdefault(generation, [0] * (len(PAUSE_BUCKETS_MS) + 1))
        buckets[next((i for i, bound in enumerate(PAUSE_BUCKETS_MS) if ms <= bound), -1)] += 1
        self.longest[generation] = max(self.longest.get(generation, 0.0), collection.seconds)
        self.total[generation] = self.total.get(generation, 0.0) + collection.seconds

    def describe(self) -> str:
        bounds = [f"<={bound} ms" for bound in PAUSE_BUCKETS_MS] + [f">{PAUSE_BUCKETS_MS[-1]} ms"]
        lines = ["garbage collection pauses:"]
        for generation in sorted(self.counts):
            buckets = self.counts[generation]
            spread = ", ".join(f"{bound} {n}" for bound, n in zip(bounds, buckets, strict=True) if n)
            longest_ms = self.longest[generation] * 1000
            lines.append(
                f"  generation {generation}: {sum(buckets):,} collections, "
                f"{self.total[generation]:.2f} s in all, longest {longest_ms:.0f} ms ({spread})"
            )
        return "\n".join(lines)


@dataclass
class StallTracker:
    """Turns beats, stack samples and garbage-collection timings into stall reports."""

    threshold: float = STALL_SECONDS
    beat: float = BEAT_SECONDS
    longest: float = 0.0
    stalls: int = 0
    _last_beat: float | None = None
    _samples: Counter[str] = field(default_factory=Counter)
    _collections: list[Collection] = field(default_factory=list)
    # Re-entrant: a garbage collection can start at any allocation, also inside ``on_beat``'s
    # locked section, and its callback (``on_collection``) then runs on the same thread. With a
    # plain lock that thread waited for itself forever: the loop (bot or bench) froze for good.
    _lock: threading.RLock = field(default_factory=threading.RLock)
    pauses: CollectionPauses = field(default_factory=CollectionPauses)

    def on_beat(self, now: float) -> Stall | None:
        """The loop turned at ``now``: a Stall if it had been overdue by more than the threshold."""
        with self._lock:
            previous, self._last_beat = self._last_beat, now
            samples, self._samples = self._samples, Counter()
            collections, self._collections = self._collections, []
        if previous is None:
            return None
        overdue = now - previous - self.beat
        if overdue <= self.threshold:
            return None
        self.stalls += 1
        self.longest = max(self.longest, overdue)
        return Stall(overdue, samples.most_common(), collections)

    def overdue(self, now: float) -> bool:
        """Whether the loop is stalled right now (the watching thread samples it then)."""
        last = self._last_beat
        return last is not None and now - last - self.beat > self.threshold / 2

    def on_sample(self, stack: str) -> None:
        with self._lock:
            self._samples[stack] += 1

    def on_collection(self, collection: Collection) -> None:
        with self._lock:
            self.pauses.add(collection)
        if collection.seconds > self.threshold / 2:
            with self._lock:
                self._collections.append(collection)


def _innermost(frame: Any) -> str:
    summary = traceback.extract_stack(frame)[-STACK_DEPTH:]
    return "\n".join(f"  {entry.filename}:{entry.lineno} {entry.name}" for entry in summary)


class LoopWatch:
    """Watches the running loop from a daemon thread; ``stop()`` before the loop closes."""

    def __init__(
        self, tracker: StallTracker | None = None, *, report: Callable[[Stall], None] | None = None
    ) -> None:
        self.tracker = tracker or StallTracker()
        self._report = report or (lambda stall: log.warning("%s", stall.describe()))
        self._stopped = threading.Event()
        self._handle: asyncio.TimerHandle | None = None
        self._gc_started = 0.0
        self._loop_thread = 0

    def start(self) -> None:
        """Call on the loop's thread, with the loop running."""
        loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        gc.callbacks.append(self._on_gc)
        self._beat(loop)
        threading.Thread(target=self._watch, name="loop-watch", daemon=True).start()

    def stop(self, *, summary: bool = False) -> None:
        """Stop watching; with ``summary``, log the garbage collector's pauses so far."""
        self._stopped.set()
        if summary:
            log.info("%s", self.tracker.pauses.describe())
        if self._handle is not None:
            self._handle.cancel()
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    def _beat(self, loop: asyncio.AbstractEventLoop) -> None:
        stall = self.tracker.on_beat(time.monotonic())
        if stall is not None:
            self._report(stall)
        self._handle = loop.call_later(self.tracker.beat, self._beat, loop)

    def _watch(self) -> None:
        while not self._stopped.wait(self.tracker.beat):
            if self.tracker.overdue(time.monotonic()):
                frame = sys._current_frames().get(self._loop_thread)
                if frame is not None:
                    self.tracker.on_sample(_innermost(frame))

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.monotonic()
            return
        took = time.monotonic() - self._gc_started
        self.tracker.on_collection(Collection(info["generation"], took, info.get("collected", 0)))
