"""The pacer keeps a fan-out under Discord's global limit: bursts, then an even pace."""

from __future__ import annotations

import pytest

from bot.domain.pacing import Pacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_goes_at_once_then_slots_are_spaced_by_the_rate() -> None:
    clock = Clock()
    pacer = Pacer(50, burst=5, clock=clock)
    delays = [pacer.reserve() for _ in range(8)]
    assert delays[:5] == [0.0] * 5
    assert delays[5:] == pytest.approx([0.02, 0.04, 0.06])


def test_no_more_than_rate_events_start_in_any_second_after_the_burst() -> None:
    clock = Clock()
    pacer = Pacer(45, burst=5, clock=clock)
    starts = [clock.now + pacer.reserve() for _ in range(500)]
    for first in range(len(starts)):
        in_window = [s for s in starts[first:] if s < starts[first] + 1.0]
        assert len(in_window) <= 45 + 5


def test_an_idle_pacer_forgets_the_past_and_allows_a_new_burst() -> None:
    clock = Clock()
    pacer = Pacer(10, burst=2, clock=clock)
    assert [pacer.reserve() for _ in range(3)] == pytest.approx([0.0, 0.0, 0.1])
    clock.now += 60
    assert [pacer.reserve() for _ in range(2)] == [0.0, 0.0]


def test_nonsense_rates_are_refused() -> None:
    with pytest.raises(ValueError):
        Pacer(0)
    with pytest.raises(ValueError):
        Pacer(10, burst=0)
