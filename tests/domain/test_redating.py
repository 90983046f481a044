"""Re-dating a digest's ledger into a new time zone (bot.domain.redating): every key stays unique,
an unchanged zone moves nothing, and a row lands on the new local day (week) of its instant unless
another row there takes precedence."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.redating import LedgerEntry, period_start, redated, shifted
from bot.domain.schedule import Cadence

ZONES = ("UTC", "America/Los_Angeles", "Pacific/Kiritimati", "Etc/GMT+12", "Europe/Berlin", "Asia/Kolkata")


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[str, list[LedgerEntry]]:
    """A ledger as one zone keyed it: one row per period, each at some instant of its period
    (a post on time or caught up within six hours, or a miss at its due time)."""
    zone = draw(st.sampled_from(ZONES))
    entries = []
    for cadence in Cadence:
        days = draw(st.sets(st.integers(0, 40), max_size=12))
        for offset in days:
            local = date(2026, 3, 1) + timedelta(days=offset)
            key = period_start(cadence, local)
            if any(e.cadence is cadence and e.post_day == key for e in entries):
                continue
            minutes = draw(st.integers(0, 24 * 60 - 1))
            start = datetime.combine(local, datetime.min.time(), tzinfo=ZoneInfo(zone))
            at = (start + timedelta(minutes=minutes)).astimezone(UTC)
            entries.append(LedgerEntry(cadence, key, at, posted=draw(st.booleans())))
    return zone, entries


@given(ledger=ledgers(), new_zone=st.sampled_from(ZONES))
def test_re_dated_keys_stay_unique_and_each_row_lands_on_its_instants_period_or_before(
    ledger: tuple[str, list[LedgerEntry]], new_zone: str
) -> None:
    old_zone, entries = ledger
    moves = redated(entries, kept=[], old_zone=old_zone, new_zone=new_zone)
    final = [(e.cadence, moves.get((e.cadence, e.post_day), e.post_day)) for e in entries]
    assert len(set(final)) == len(final)
    for entry, (_, key) in zip(entries, final, strict=True):
        assert key <= shifted(entry, old_zone, new_zone)  # never a later period than its own
    if old_zone == new_zone:
        assert moves == {}


def test_the_trials_utc_post_counts_for_the_los_angeles_afternoon_before() -> None:
    friday = LedgerEntry(
        Cadence.DAILY, date(2026, 11, 28), datetime(2026, 11, 28, 0, 5, tzinfo=UTC), posted=True
    )
    thursday = LedgerEntry(
        Cadence.DAILY, date(2026, 11, 27), datetime(2026, 11, 27, 0, 5, tzinfo=UTC), posted=True
    )
    moves = redated([friday, thursday], kept=[], old_zone="UTC", new_zone="America/Los_Angeles")
    assert moves == {
        (Cadence.DAILY, date(2026, 11, 28)): date(2026, 11, 27),
        (Cadence.DAILY, date(2026, 11, 27)): date(2026, 11, 26),
    }


def test_a_post_keeps_a_period_over_a_miss_and_the_other_takes_the_free_one_before_it() -> None:
    missed = LedgerEntry(
        Cadence.DAILY, date(2026, 11, 28), datetime(2026, 11, 28, 1, 0, tzinfo=UTC), posted=False
    )
    posted = LedgerEntry(
        Cadence.DAILY, date(2026, 11, 27), datetime(2026, 11, 27, 20, 0, tzinfo=UTC), posted=True
    )
    kept = [(Cadence.DAILY, date(2026, 11, 26))]  # an older row that stays where it is
    # In Los Angeles both fell on Friday the 27th: the post keeps it, the miss goes before the kept row.
    moves = redated([missed, posted], kept=kept, old_zone="UTC", new_zone="America/Los_Angeles")
    assert moves == {(Cadence.DAILY, date(2026, 11, 28)): date(2026, 11, 25)}
