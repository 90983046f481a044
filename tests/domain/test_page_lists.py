"""The pages behind Previous/Next stay within their byte budget and their lifetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.page_lists import ENTRY_BYTES, PageLists


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_list_is_shown_until_its_lifetime_ends() -> None:
    clock = Clock()
    lists = PageLists(clock, lifetime=timedelta(seconds=180))
    key = lists.keep(7, "papers search", b"pages")
    clock.now += timedelta(seconds=180)
    kept = lists.get(key)
    assert kept is not None and kept.owner_id == 7 and kept.blob == b"pages"
    clock.now += timedelta(seconds=1)
    assert lists.get(key) is None


def test_the_oldest_lists_make_room_and_new_ones_stay() -> None:
    lists = PageLists(Clock(), budget_bytes=3 * (1000 + ENTRY_BYTES))
    keys = [lists.keep(1, "papers today", bytes([n]) * 1000) for n in range(5)]
    assert [lists.get(key) is not None for key in keys] == [False, False, True, True, True]
    assert lists.bytes == 3 * (1000 + ENTRY_BYTES)


def test_the_same_answer_shown_many_times_is_kept_once() -> None:
    lists = PageLists(Clock(), budget_bytes=10_000_000)
    blob = b"x" * 5000
    keys = [lists.keep(n, "papers search", bytes(blob)) for n in range(100)]  # equal, not the same object
    assert lists.bytes == 5000 + 100 * ENTRY_BYTES
    first, last = lists.get(keys[0]), lists.get(keys[-1])
    assert first is not None and last is not None and first.blob is last.blob


def test_keys_of_an_earlier_run_find_nothing() -> None:
    clock = Clock()
    before, after = PageLists(clock), PageLists(clock)
    key = before.keep(1, "papers search", b"a")
    after.keep(1, "papers search", b"b")
    assert after.get(key) is None


@given(
    st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 30), st.integers(0, 100)), max_size=60),
    st.integers(0, 20_000),
)
def test_never_over_budget_and_counts_match_what_is_kept(
    steps: list[tuple[int, int, int]], budget: int
) -> None:
    clock = Clock()
    lists = PageLists(clock, budget_bytes=budget, lifetime=timedelta(seconds=50))
    keys = []
    for size, which, seconds in steps:
        clock.now += timedelta(seconds=seconds)
        keys.append(lists.keep(1, "c", bytes([which]) * size))
        assert lists.bytes <= max(budget, size + ENTRY_BYTES)  # a single list over budget: itself only
    live = [kept for key in keys if (kept := lists.get(key)) is not None]
    assert lists.bytes >= len(live) * ENTRY_BYTES + sum(len(b) for b in {k.blob for k in live})
