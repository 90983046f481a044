"""A paper's authors and keywords columns hold their JSON lists exactly as ``json.dumps`` with
``ensure_ascii=False`` wrote them (stored rows, search by author and the bot's read-back all see
that text): written faster, every list, however hostile its names, gives the same text."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from bot.storage.paper_rows import json_list

# Quotes, backslashes, control characters, non-ASCII, lone surrogates, and any character at all.
NAMES = st.text(st.sampled_from(list("\"\\'\t\n\r\x00\x1f\x7f\u2028é日😀\ud800")) | st.characters(codec=None))


@given(st.lists(NAMES, max_size=6))
def test_a_list_of_names_is_written_as_json_dumps_writes_it(names: list[str]) -> None:
    assert json_list(tuple(names)) == json.dumps(names, ensure_ascii=False)


@given(st.lists(NAMES | st.integers() | st.none() | st.floats(allow_nan=False), max_size=6))
def test_a_list_holding_other_values_is_written_as_json_dumps_writes_it(values: list[object]) -> None:
    assert json_list(tuple(values)) == json.dumps(values, ensure_ascii=False)  # type: ignore[arg-type]
