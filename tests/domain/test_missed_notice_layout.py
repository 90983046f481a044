"""The grouped notice of digest days not posted: every notice told once, within Discord's limits,
in as few messages as those limits need, whatever the names, reasons and numbers."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.digest import parse_part
from bot.domain.missed_notices import SINGLE_TITLE, MissedNotice, notices_marker, plan_notices
from bot.domain.schedule import Cadence, LedgerKey
from tests.property_budget import examples
from tests.typed_text import typed_text

REASON = (
    "paperbot was not running at its time (09:00 UTC) or within 6 hours after it, "
    "and a digest that late is not posted"
)

notices = st.lists(
    st.builds(
        MissedNotice,
        st.builds(LedgerKey, st.integers(1, 4), st.integers(1, 40), st.sampled_from(list(Cadence))),
        st.integers(0, 400).map(lambda n: date(2026, 11, 1) + timedelta(days=n)),
        st.one_of(st.just(REASON), st.text(min_size=1, max_size=600)),
    ),
    min_size=1,
    max_size=400,
    unique_by=lambda n: n.token,
)


@settings(max_examples=examples(60), deadline=None)
@given(notices, typed_text(max_size=200), st.booleans())  # server names with mentions, markdown
def test_every_notice_is_told_once_within_discords_limits(
    missed: list[MissedNotice], server: str, in_channel: bool
) -> None:
    messages = plan_notices(9, missed, in_channel=in_channel, server_name=lambda guild: server or None)
    told = [token for message in messages for token in message.papers]
    assert sorted(told) == sorted(n.token for n in missed)
    for number, message in enumerate(messages, 1):
        assert 1 <= len(message.embeds) <= 10
        assert sum(e.size() for e in message.embeds) <= 6000
        assert all(len(e.description) <= 4096 and len(e.title or "") <= 256 for e in message.embeds)
        assert parse_part(message.embeds[0].footer or "", notices_marker(9)) == number
        text = "\n".join(e.description for e in message.embeds)
        assert "@everyone" not in text.replace("@\u200beveryone", "")
        assert "@here" not in text.replace("@\u200bhere", "")
    size = sum(e.size() for m in messages for e in m.embeds)
    assert len(messages) <= 1 + size // 3000  # as few as the limits need, not one per day


def test_a_week_offline_with_ten_digests_is_one_message_listing_each_digest_and_day() -> None:
    missed = [
        MissedNotice(LedgerKey(5, 100 + c), date(2026, 11, 20) + timedelta(days=d), REASON)
        for c in range(10)
        for d in range(7)
    ]
    messages = plan_notices(1, missed, in_channel=False, server_name=lambda guild: "Paper club")
    assert len(messages) == 1
    text = messages[0].embeds[0].description
    assert messages[0].embeds[0].title == "📭 10 digests were not posted: 70 days in all"
    assert all(f"**Paper club** · <#{100 + c}>:" in text for c in range(10))
    assert text.count("Fri 20 Nov 2026") == 10 and "`/digest post-now`" in text
    one = plan_notices(2, missed[:1], in_channel=True)
    assert one[0].embeds[0].title == SINGLE_TITLE and "cannot be sent DMs" in one[0].embeds[0].description
