"""Which shards a process runs (``--shard-count 6 --shards 0-1``), which servers are its own, and
when each shard may IDENTIFY."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.shards import (
    IdentifyPacer,
    ShardPlan,
    format_shard_ids,
    parse_shard_ids,
    shard_of,
    shard_plan,
)
from bot.errors import InvalidInput

counts = st.integers(1, 64)


@given(counts.flatmap(lambda n: st.tuples(st.just(n), st.sets(st.integers(0, n - 1), min_size=1))))
def test_any_set_of_shards_reads_back_from_its_written_form(case: tuple[int, set[int]]) -> None:
    count, ids = case
    written = format_shard_ids(tuple(sorted(ids)))
    assert parse_shard_ids(written, count) == tuple(sorted(ids))
    assert parse_shard_ids(written.replace(",", " , "), count) == tuple(sorted(ids))


@given(st.text(max_size=20), counts)
def test_any_text_is_shards_or_one_clear_error(text: str, count: int) -> None:
    try:
        ids = parse_shard_ids(text, count)
    except InvalidInput as exc:
        assert str(exc).startswith("--shards")
    else:
        assert ids and all(0 <= shard < count for shard in ids)


@pytest.mark.parametrize(
    ("text", "ids"),
    [("0,1", (0, 1)), ("0-2", (0, 1, 2)), ("4, 0-1", (0, 1, 4)), ("3-3", (3,))],
)
def test_lists_and_ranges(text: str, ids: tuple[int, ...]) -> None:
    assert parse_shard_ids(text, 6) == ids


@pytest.mark.parametrize(
    ("count", "shards", "message"),
    [
        (6, "0-6", "--shards: there is no shard 6 with --shard-count 6 (shards are 0-5)."),
        (6, "2-0", "--shards: the range '2-0' runs backwards; write it 0-2."),
        (6, "", "--shards is empty: give shard ids like 0,1 or a range like 0-5."),
        (6, "a", "--shards: 'a' is not a shard id or range; write e.g. 0,1 or 0-5."),
        (6, "-1", "--shards: '-1' is not a shard id or range; write e.g. 0,1 or 0-5."),
        (6, "１", "--shards: '１' is not a shard id or range; write e.g. 0,1 or 0-5."),
        (6, "0,0", "--shards: shard 0 is given twice; name each shard once."),
        (6, "0-2,1", "--shards: shard 1 is given in '0-2' and in '1'; name each shard once."),
        (6, "4-5, 3-4", "--shards: shard 4 is given in '4-5' and in '3-4'; name each shard once."),
        (None, "0-1", "--shards needs --shard-count: how many shards the bot has in all."),
        (0, None, "--shard-count must be between 1 and 10000, got 0."),
    ],
)
def test_bad_shards_are_refused_saying_what_would_do(
    count: int | None, shards: str | None, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        shard_plan(count, shards)
    assert str(refused.value) == message


def test_each_server_is_owned_by_exactly_one_process_of_a_split() -> None:
    processes = [shard_plan(6, "0-1"), shard_plan(6, "2-3"), shard_plan(6, "4,5")]
    guilds = [(stamp << 22) | 7 for stamp in range(1000, 1060)]
    for guild in guilds:
        assert sum(p.owns(guild) for p in processes) == 1
        owner = next(p for p in processes if p.owns(guild))
        assert shard_of(guild, 6) in owner.ids
    assert [p.describe() for p in processes] == ["shards 0-1 of 6", "shards 2-3 of 6", "shards 4-5 of 6"]


def test_no_shard_count_is_one_process_owning_everything() -> None:
    plan = shard_plan(None, None)
    assert plan == ShardPlan() and plan.everything and plan.owns(123 << 22)
    assert shard_plan(3, None) == ShardPlan(3, (0, 1, 2))


def test_identify_pacing_starts_different_buckets_together_and_spaces_a_bucket_by_5_s() -> None:
    pacer = IdentifyPacer(max_concurrency=2)
    assert [pacer.reserve(shard, now=100.0) for shard in (0, 1, 2, 3)] == [0.0, 0.0, 5.0, 5.0]
    assert pacer.reserve(4, now=101.0) == 9.0  # bucket 0 is taken at 100 and 105


def test_a_shard_identifying_again_waits_a_window_first() -> None:
    pacer = IdentifyPacer(max_concurrency=16)
    assert pacer.reserve(3, now=0.0) == 0.0
    # Invalid Session (another process used the bucket) or a reconnect much later: wait 5 s.
    assert pacer.reserve(3, now=60.0) == 5.0
