"""Admission control on a virtual clock: served in time, busy at once, never answered late."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock

import discord
import pytest

from bot.client import PaperTree
from bot.domain.admission import BUSY_MESSAGE, Admission, AdmissionPolicy, Verdict, snowflake_seconds


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
    gate = admission(clock, initial_service=0.5)  # 2 slots, 0.5 s each: 0.25 s of wait per queued one
    for _ in range(2):
        gate.arrive(clock.now, "command")
    verdicts = [gate.arrive(clock.now, "command").verdict for _ in range(12)]
    # Finishing by 2.5 s (3 s less the reply margin): queued ones start in pairs every 0.5 s, so the
    # 8th starts at 2.0 s and just fits; the 9th would end at 3.0 s: busy, at once.
    assert verdicts[:8] == [None] * 8
    assert verdicts[8:] == [Verdict.BUSY] * 4


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
    gate = admission(clock, initial_service=0.1)
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


# ---- the Discord glue -------------------------------------------------------------------------------


def interaction(kind: discord.InteractionType, created: float) -> Any:
    snowflake = (int(created * 1000) - 1_420_070_400_000) << 22
    response = SimpleNamespace(send_message=AsyncMock(), autocomplete=AsyncMock())
    return SimpleNamespace(id=snowflake, type=kind, response=response)


async def test_the_tree_answers_busy_privately_and_autocomplete_with_no_choices() -> None:
    clock = Clock()
    tree: Any = PaperTree.__new__(PaperTree)
    tree.admission = admission(clock, slots=1, max_queued=0)
    tree._call = AsyncMock()
    tree.client = SimpleNamespace(loop=asyncio.get_running_loop())
    tree.admission.arrive(clock.now, "command")  # the one slot is taken
    command = interaction(discord.InteractionType.application_command, clock.now)
    typing = interaction(discord.InteractionType.autocomplete, clock.now)
    for item in (command, typing):
        await tree._admitted(item, tree.admission.arrive(clock.now, "x"))
    command.response.send_message.assert_awaited_once_with(BUSY_MESSAGE, ephemeral=True)
    typing.response.autocomplete.assert_awaited_once_with([])
    tree._call.assert_not_awaited()


async def test_the_tree_serves_and_frees_the_slot_even_when_the_command_fails() -> None:
    clock = Clock()
    tree: Any = PaperTree.__new__(PaperTree)
    tree.admission = admission(clock, slots=1)
    tree._call = AsyncMock(side_effect=RuntimeError("boom"))
    command = interaction(discord.InteractionType.application_command, clock.now)
    with pytest.raises(RuntimeError):
        await tree._admitted(command, tree.admission.arrive(clock.now, "command"))
    assert tree.admission.in_service == 0
    tree._call.assert_awaited_once_with(command)


async def test_a_command_still_unanswered_when_time_runs_out_is_cut_short_and_told_busy() -> None:
    clock = Clock()
    tree: Any = PaperTree.__new__(PaperTree)
    tree.admission = admission(clock, slots=1)
    never = asyncio.Event()

    async def stuck(_: object) -> None:
        await never.wait()

    tree._call = stuck
    command = interaction(discord.InteractionType.application_command, clock.now - 2.9)
    command.response.is_done = lambda: False
    ticket = tree.admission.arrive(clock.now, "command")  # (a fresh ticket: served)
    ticket.created = clock.now - 2.9  # ...whose handler then overran: no time left
    await tree._admitted(command, ticket)
    command.response.send_message.assert_awaited_once_with(BUSY_MESSAGE, ephemeral=True)
    assert tree.admission.in_service == 0


async def test_a_command_that_answered_in_time_runs_to_the_end_past_the_deadline() -> None:
    clock = Clock()
    tree: Any = PaperTree.__new__(PaperTree)
    tree.admission = admission(clock, slots=1)
    finished = []

    async def deferred_then_long_work(_: object) -> None:
        await asyncio.sleep(0)  # the watchdog (no time left) fires here: answered, so nothing happens
        await asyncio.sleep(0)
        finished.append(True)

    tree._call = deferred_then_long_work
    command = interaction(discord.InteractionType.application_command, clock.now)
    command.response.is_done = lambda: True
    ticket = tree.admission.arrive(clock.now, "command")
    ticket.created = clock.now - 10
    await tree._admitted(command, ticket)
    assert finished == [True]
    command.response.send_message.assert_not_awaited()
