"""The value /follow remove's autocomplete sends for a follow is a form no keyword can take, so
whatever a member types (digits included) is read as a keyword, never as a follow's id."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.follows import parse_keyword
from bot.errors import InvalidInput
from bot.services.follows import chosen_follow


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_no_keyword_reads_as_a_chosen_follow(follow_id: int) -> None:
    value = chosen_follow(follow_id)
    assert len(value) <= 100  # within Discord's limit for a choice's value
    with pytest.raises(InvalidInput):
        parse_keyword(value)
