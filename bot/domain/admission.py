"""Admission control: every interaction is answered within Discord's 3 s, or told "busy" at once.

Discord refuses an interaction's first answer after 3 s (the user has already seen "the
application did not respond"), so work that cannot finish in time is wasted twice: it answers no
one and delays everyone queued behind it. Here each interaction gets a ticket on arrival:

* **serve**: a slot is free, or it can wait for one and still be answered well inside the
  deadline: the predicted wait plus the recent service time of its kind fit the queue budget
  (0.4 s), and its age plus those fit the deadline less a margin for the answer's trip. A queue
  allowed to fill up to the deadline answered everyone at ~2.5 s under overload: in time, but
  barely, and a member would rather hear "busy" at once than wait that long;
* **busy**: it cannot, or the queue is full: answer at once with a short private "busy" (empty
  choices for autocomplete), which costs the bot one request and tells the user to retry;
* **drop**: it is already too old for even that answer to arrive in time (a bot that was
  stalled): answering would only be refused.

Waiting tickets are re-judged when a slot frees, so a queue that stopped moving sheds its stale
entries instead of serving them late. The queue is bounded; the work in flight is bounded by the
slots, so the event loop (and the gateway heartbeat on it) is never buried under it.

Pure: the clock is passed in (wall-clock seconds, since a Discord snowflake carries its creation
time); the only asyncio is the futures waiting tickets are woken with.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

DISCORD_EPOCH_MS = 1_420_070_400_000
BUSY_MESSAGE = "Busy right now: please try again in a moment."


class Verdict(StrEnum):
    SERVE = "serve"
    BUSY = "busy"
    DROP = "drop"


@dataclass(frozen=True, slots=True)
class AdmissionPolicy:
    deadline: float = 3.0  # Discord's limit for the first answer (or deferral)
    reply_margin: float = 0.5  # planned answers finish this long before the deadline
    busy_margin: float = 0.3  # a busy answer is still sent if at least this much time is left
    slots: int = 8  # interactions worked on at once
    queue_budget: float = 0.4  # the most a queued interaction may expect to wait and run (seconds)
    max_queued: int = 256  # interactions waiting for a slot; beyond that: busy at once
    initial_service: float = 0.05  # seconds, until handlers have been timed
    smoothing: float = 0.2  # weight of the newest service time in the moving average
    max_trusted_age: float = 30.0  # an older (or future) snowflake means skewed clocks: use receipt


def snowflake_seconds(snowflake: int) -> float:
    """When Discord created the object with this id, in Unix seconds."""
    return ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000


@dataclass
class Ticket:
    kind: str
    created: float
    verdict: Verdict | None = None  # None: waiting for a slot
    started: float | None = None
    queued: float | None = None  # when it joined the queue (None: served or refused on arrival)
    _turn: asyncio.Future[Verdict] | None = field(default=None, repr=False)


@dataclass
class Counts:
    served: int = 0
    busy: int = 0
    dropped: int = 0


class Admission:
    def __init__(
        self, policy: AdmissionPolicy | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.policy = policy or AdmissionPolicy()
        self._clock = clock
        self._waiting: deque[Ticket] = deque()
        self._in_service = 0
        self._service: dict[str, float] = {}
        self._answer_time = 0.0
        self.counts = Counts()

    # ---- decisions -----------------------------------------------------------------------------

    def arrive(self, created: float, kind: str) -> Ticket:
        """A new interaction created at ``created`` (snowflake time): judged at once if possible."""
        now = self._clock()
        if not -self.policy.max_trusted_age < now - created < self.policy.max_trusted_age:
            created = now  # a clock we cannot trust: count from receipt
        ticket = Ticket(kind, created)
        self._shed_stale(now)
        if self._too_late_to_answer(ticket, now):
            return self._decide(ticket, Verdict.DROP)
        if self._in_service < self.policy.slots and not self._waiting:
            return self._start(ticket, now)
        wait = self.predicted_wait()
        if (
            len(self._waiting) >= self.policy.max_queued
            or wait + self.service_time(kind) > self.policy.queue_budget
            or not self._fits(ticket, now, wait)
        ):
            return self._decide(ticket, Verdict.BUSY)
        ticket.queued = now
        self._waiting.append(ticket)
        return ticket

    async def turn(self, ticket: Ticket) -> Verdict:
        """The ticket's verdict, waiting for a slot if it is queued (no timers: woken by finish())."""
        if ticket.verdict is None:
            ticket._turn = asyncio.get_running_loop().create_future()
            await ticket._turn
        assert ticket.verdict is not None
        return ticket.verdict

    def finish(self, ticket: Ticket) -> None:
        """A served ticket's work is done: learn its duration and hand the slot on."""
        assert ticket.verdict is Verdict.SERVE and ticket.started is not None
        now = self._clock()
        took = max(0.0, now - ticket.started)
        previous = self._service.get(ticket.kind, self.policy.initial_service)
        self._service[ticket.kind] = previous + self.policy.smoothing * (took - previous)
        self._in_service -= 1
        self._hand_on(now)

    def withdraw(self, ticket: Ticket) -> None:
        """A ticket whose interaction will not be worked on after all (discord.py could not read
        its payload): its slot or its place in the queue goes to the next, and nothing is learnt."""
        if ticket.verdict is Verdict.SERVE:
            self._in_service -= 1
            self._hand_on(self._clock())
        elif ticket.verdict is None:
            self._waiting = deque(waiting for waiting in self._waiting if waiting is not ticket)

    def time_left(self, ticket: Ticket) -> float:
        """Seconds until the last moment an answer (if only "busy") still reaches Discord in time."""
        return ticket.created + self.policy.deadline - self.answer_margin() - self._clock()

    def observe_answer(self, seconds: float) -> None:
        """How long a busy answer took to send (loop delay included): a bot whose loop fell behind
        needs a wider margin, or its busy answers arrive late too."""
        self._answer_time += self.policy.smoothing * (seconds - self._answer_time)

    def answer_margin(self) -> float:
        return max(self.policy.busy_margin, self._answer_time)

    # ---- estimates -----------------------------------------------------------------------------

    def service_time(self, kind: str) -> float:
        return self._service.get(kind, self.policy.initial_service)

    def predicted_wait(self) -> float:
        """Seconds a newly queued ticket would wait for a slot, from the recent service times."""
        if self._in_service < self.policy.slots:
            return 0.0
        times = self._service.values()
        mean = sum(times) / len(times) if times else self.policy.initial_service
        return (len(self._waiting) + 1) * mean / self.policy.slots

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @property
    def in_service(self) -> int:
        return self._in_service

    # ---- internals -----------------------------------------------------------------------------

    def _fits(self, ticket: Ticket, now: float, wait: float) -> bool:
        finish = now + wait + self.service_time(ticket.kind)
        return finish - ticket.created <= self.policy.deadline - self.policy.reply_margin

    def _too_late_to_answer(self, ticket: Ticket, now: float) -> bool:
        return now - ticket.created > self.policy.deadline - self.answer_margin()

    def _start(self, ticket: Ticket, now: float) -> Ticket:
        self._in_service += 1
        ticket.started = now
        return self._decide(ticket, Verdict.SERVE)

    def _decide(self, ticket: Ticket, verdict: Verdict) -> Ticket:
        ticket.verdict = verdict
        if verdict is Verdict.SERVE:
            self.counts.served += 1
        elif verdict is Verdict.BUSY:
            self.counts.busy += 1
        else:
            self.counts.dropped += 1
        if ticket._turn is not None and not ticket._turn.done():
            ticket._turn.set_result(verdict)
        return ticket

    def _overstayed(self, ticket: Ticket, now: float) -> bool:
        """Queued longer than the budget allows (the slots ran slower than predicted): serving it
        now would answer it far later than the queue promised."""
        assert ticket.queued is not None
        return now - ticket.queued + self.service_time(ticket.kind) > 2 * self.policy.queue_budget

    def _shed_stale(self, now: float) -> None:
        """Answer "busy" to queued tickets that could not finish in time even if started now, or
        that overstayed the queue budget, while that answer can still arrive (oldest first)."""
        while self._waiting and (
            not self._fits(self._waiting[0], now, 0.0) or self._overstayed(self._waiting[0], now)
        ):
            ticket = self._waiting.popleft()
            self._decide(ticket, Verdict.DROP if self._too_late_to_answer(ticket, now) else Verdict.BUSY)

    def _hand_on(self, now: float) -> None:
        """Fill free slots from the queue, shedding tickets that can no longer finish in time."""
        self._shed_stale(now)
        while self._waiting and self._in_service < self.policy.slots:
            self._start(self._waiting.popleft(), now)
            self._shed_stale(now)
