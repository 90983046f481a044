"""What a post covers: pure rules for days, papers and the header."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.coverage import MAX_DAYS, Candidate, Coverage, choose, coverage, plan_post
from bot.domain.models import Paper
from bot.domain.schedule import ListMode

MONDAY_9 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def days(cover: Coverage) -> list[str]:
    return [d.isoformat() for d in cover.days]


def test_complete_covers_the_days_since_the_last_covered_one_up_to_yesterday() -> None:
    assert days(coverage(MONDAY_9, ListMode.COMPLETE, None)) == ["2026-01-04"]  # a first post: yesterday
    assert days(coverage(MONDAY_9, ListMode.COMPLETE, date(2026, 1, 1))) == [
        "2026-01-02",
        "2026-01-03",
        "2026-01-04",
    ]
    # A second post on one UTC day: yesterday again (late additions only, nothing twice).
    assert days(coverage(MONDAY_9, ListMode.COMPLETE, date(2026, 1, 4))) == ["2026-01-04"]


def test_so_far_covers_today_and_again_the_last_covered_day() -> None:
    assert days(coverage(MONDAY_9, ListMode.SO_FAR, None)) == ["2026-01-05"]
    assert days(coverage(MONDAY_9, ListMode.SO_FAR, date(2026, 1, 4))) == ["2026-01-04", "2026-01-05"]


def test_the_source_day_is_utc_whatever_the_server_zone() -> None:
    late_in_new_york = datetime(2026, 1, 5, 23, 30, tzinfo=UTC)
    assert days(coverage(late_in_new_york, ListMode.COMPLETE, None)) == ["2026-01-04"]
    after_utc_midnight = datetime(2026, 1, 6, 0, 30, tzinfo=UTC)  # 19:30 on the 5th in New York
    assert days(coverage(after_utc_midnight, ListMode.COMPLETE, None)) == ["2026-01-05"]


def test_long_downtime_covers_at_most_a_week_and_says_what_it_missed() -> None:
    cover = coverage(MONDAY_9, ListMode.COMPLETE, date(2025, 12, 1))
    assert len(cover.days) == MAX_DAYS and cover.last == date(2026, 1, 4)
    assert cover.skipped_before == date(2025, 12, 28)


def paper(n: int, upvotes: int | None) -> Paper:
    return Paper(title=f"Paper {n}", abstract="", source="hf-api", arxiv_id=f"2601.{n:05d}", upvotes=upvotes)


@given(
    st.lists(st.tuples(st.integers(0, 30), st.integers(0, 3), st.integers(0, 100)), max_size=60),
    st.sets(st.integers(0, 30)),
    st.integers(1, 50),
)
def test_choose_never_repeats_never_exceeds_and_counts_what_it_left_out(
    listed: list[tuple[int, int, int]], posted: set[int], max_papers: int
) -> None:
    candidates = [
        Candidate(key, paper(key, votes), date(2026, 1, 1) + timedelta(days=day), rank)
        for rank, (key, day, votes) in enumerate(listed)
    ]
    chosen, eligible = choose(candidates, posted, max_papers)
    keys = [c.key for c in chosen]
    assert len(keys) == len(set(keys)) <= max_papers
    assert not set(keys) & posted
    assert eligible == len({key for key, _, _ in listed} - posted)
    votes = [c.paper.upvotes or 0 for c in chosen]
    assert votes == sorted(votes, reverse=True)


def test_the_header_names_the_days_and_counts_the_rest() -> None:
    cover = Coverage((date(2026, 1, 2), date(2026, 1, 3), date(2026, 1, 4)), ListMode.COMPLETE)
    chosen = [Candidate(n, paper(n, 10 - n), date(2026, 1, 2), n) for n in range(3)]
    plan = plan_post(date(2026, 1, 5), cover, chosen, 143, source="hf-api", listed_days=cover.days)
    header = plan.messages[0].embeds[0]
    assert header.title == "📚 Daily papers · Friday 02 January – Sunday 04 January 2026"
    assert "top 3 of 143" in header.description
    assert "Friday 02 January, Saturday 03 January and Sunday 04 January" in header.description
    assert "`/papers today` with `day:` 2026-01-02, 2026-01-03 or 2026-01-04" in header.description
    old = plan_post(
        date(2026, 1, 5),
        Coverage((date(2025, 12, 30),), ListMode.COMPLETE),
        chosen,
        3,
        source="hf-api",
        old_list=(date(2025, 12, 30), 6),
    )
    assert "Tuesday 30 December 2025 (6 days old)" in old.messages[0].embeds[0].description
