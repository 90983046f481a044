"""Admission control on a virtual clock: served in time, busy at once, never answered late."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.domain.admission import Admission, AdmissionPolicy, Verdict, snowflake_seconds


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def admission(clock: Clock, **policy: Any) -> Admission:
    return Admission(AdmissionPolicy(**{"slots": 2, "initial_service": 0.1, **policy}), clock=clock)


def test_a_fresh_interaction_is_served_at_once_when_a_slot_is_free() -> None:
    clock = Clock()
    gate = admission(clock)
    ticket = gate.arrive(clock.now - 0.05, "command")
    assert ticket.verdict is Verdict.SERVE and gate.in_service == 1


def test_snowflake_time_is_discords_creation_time() -> None:
    # 175928847299117063 is Discord's documented example: 2016-04-30 11:18:25.796 UTC.
    assert snowflake_seconds(175928847299117063) == pytest.approx(1462015105.796)


async def test_queued_tickets_are_served_in_order_as_slots_free() -> None:
    clock = Clock()
    gate = admission(clock)
    running = [gate.arrive(clock.now, "command") for _ in range(2)]
    queued = gate.arrive(clock.now, "command")
    assert queued.verdict is None and gate.waiting == 1
    turn = asyncio.ensure_future(gate.turn(queued))
    await asyncio.sleep(0)
    assert not turn.done()
    clock.now += 0.1
    gate.finish(running[0])
    assert await turn is Verdict.SERVE
    assert gate.in_service == 2 and gate.waiting == 0


def test_a_full_queue_answers_busy_at_once() -> None:
    clock = Clock()
    gate = admission(clock, max_queued=3, initial_service=0.01)
    for _ in range(2 + 3):
        assert gate.arrive(clock.now, "command").verdict in (Verdict.SERVE, None)
    assert gate.arrive(clock.now, "command").verdict is Verdict.BUSY
    assert gate.counts.busy == 1


def test_an_interaction_that_could_not_finish_in_time_is_told_busy_on_arrival() -> None:
    clock = Clock()
    # 2 slots, 0.5 s each: 0.25 s of wait per queued one; a queue budget as long as the deadline.
    gate = admission(clock, initial_service=0.5, queue_budget=3.0)
    for _ in range(2):
        gate.arrive(clock.now, "command")
    verdicts = [gate.arrive(clock.now, "command").verdict for _ in range(12)]
    # Finishing by 2.5 s (3 s less the reply margin): queued ones start in pairs every 0.5 s, so the
    # 8th starts at 2.0 s and just fits; the 9th would end at 3.0 s: busy, at once.
    assert verdicts[:8] == [None] * 8
    assert verdicts[8:] == [Verdict.BUSY] * 4


def test_a_queue_that_would_keep_members_waiting_past_its_budget_says_busy_at_once() -> None:
    clock = Clock()
    gate = admission(clock, initial_service=0.1, queue_budget=0.4)  # 2 slots: 0.05 s of wait per queued one
    for _ in range(2):
        assert gate.arrive(clock.now, "command").verdict is Verdict.SERVE
    verdicts = [gate.arrive(clock.now, "command").verdict for _ in range(10)]
    # The 6th queued one waits 0.3 s and runs 0.1 s: just within 0.4 s. The 7th would be answered
    # at ~0.45 s, well before Discord's deadline, but a member is better told "busy" at once.
    assert verdicts[:6] == [None] * 6
    assert verdicts[6:] == [Verdict.BUSY] * 4


async def test_a_queued_interaction_that_overstayed_its_budget_is_told_busy_rather_than_served_late() -> None:
    clock = Clock()
    gate = admission(clock, initial_service=0.1, queue_budget=0.4)
    running = [gate.arrive(clock.now, "command") for _ in range(2)]
    waiting = gate.arrive(clock.now, "command")
    turn = asyncio.ensure_future(gate.turn(waiting))
    clock.now += 0.75  # the slots ran far slower than their 0.1 s: 0.75 s queued + 0.1 s > 2 x 0.4 s
    gate.finish(running[0])
    assert await turn is Verdict.BUSY
    assert gate.in_service == 1 and gate.waiting == 0


def test_an_old_interaction_is_busy_even_with_a_free_slot_if_its_work_would_end_late() -> None:
    clock = Clock()
    gate = admission(clock, slots=1, initial_service=0.1)
    blocker = gate.arrive(clock.now, "command")
    stale = gate.arrive(clock.now - 2.45, "command")  # queued: 2.45 s + 0.1 s wait + 0.1 s > 2.5 s
    assert stale.verdict is Verdict.BUSY
    clock.now += 0.1
    gate.finish(blocker)
    assert gate.arrive(clock.now - 2.45, "command").verdict is Verdict.SERVE  # a slot is free: just fits


def test_an_interaction_too_old_for_any_answer_to_arrive_is_dropped_not_answered_late() -> None:
    clock = Clock()
    gate = admission(clock)
    assert gate.arrive(clock.now - 2.8, "command").verdict is Verdict.DROP
    assert gate.counts.dropped == 1


async def test_a_stalled_queue_sheds_its_stale_tickets_as_busy_while_busy_can_still_arrive() -> None:
    clock = Clock()
    gate = admission(clock, initial_service=0.1, queue_budget=3.0)  # only Discord's deadline sheds
    running = [gate.arrive(clock.now, "command") for _ in range(2)]
    waiting = gate.arrive(clock.now, "command")
    turn = asyncio.ensure_future(gate.turn(waiting))
    clock.now += 2.45  # the slots are stuck; the queued one can no longer finish by 2.5 s
    gate.arrive(clock.now, "command")  # any arrival re-judges the queue
    assert await turn is Verdict.BUSY
    clock.now += 1.0
    for ticket in running:
        gate.finish(ticket)
    assert gate.counts.busy >= 1 and gate.in_service == 1  # the newest arrival got a slot


async def test_a_ticket_waiting_too_long_is_dropped_when_a_slot_frees_after_the_deadline() -> None:
    clock = Clock()
    gate = admission(clock, initial_service=0.1)
    running = [gate.arrive(clock.now, "command") for _ in range(2)]
    waiting = gate.arrive(clock.now, "command")
    turn = asyncio.ensure_future(gate.turn(waiting))
    clock.now += 5  # nothing arrived, nothing finished; Discord's deadline has passed
    gate.finish(running[0])
    assert await turn is Verdict.DROP


def test_service_times_are_learned_per_kind() -> None:
    clock = Clock()
    gate = admission(clock, slots=4, smoothing=0.5)
    ticket = gate.arrive(clock.now, "search")
    clock.now += 0.5
    gate.finish(ticket)
    assert gate.service_time("search") == pytest.approx(0.3)  # halfway from 0.1 to 0.5
    assert gate.service_time("autocomplete") == pytest.approx(0.1)


def test_a_skewed_clock_counts_from_receipt() -> None:
    clock = Clock()
    gate = admission(clock)
    assert gate.arrive(clock.now + 3600, "command").verdict is Verdict.SERVE  # "from the future"
    assert gate.arrive(clock.now - 3600, "command").verdict is Verdict.SERVE  # hours "old": not real


def test_slow_answers_widen_the_margin_so_busy_is_never_sent_too_late() -> None:
    clock = Clock()
    gate = admission(clock, smoothing=1.0)
    assert gate.arrive(clock.now - 2.5, "command").verdict is Verdict.SERVE  # 0.5 s left > 0.3 s margin
    gate.observe_answer(0.8)  # busy answers now take 0.8 s to get out (a loop that fell behind)
    assert gate.answer_margin() == pytest.approx(0.8)
    assert gate.arrive(clock.now - 2.5, "command").verdict is Verdict.DROP
    gate.observe_answer(0.01)  # the loop caught up: back to the policy's margin
    assert gate.answer_margin() == pytest.approx(0.3)
