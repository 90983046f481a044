"""Paper text shows as typed in Discord: no markdown and no <...> token (timestamp, emoji, command,
mention) survives escape() unescaped."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.layout import ELLIPSIS, escape, escape_within
from bot.domain.text import strip_invisible

INLINE_MARKUP = set("\\*_~`|[]<")
LINE_START_MARKUP = set("#>-")
ORDERED_LIST_MARKER = re.compile(r"^\s*\d+\.(?=\s)", re.MULTILINE)  # "2. " renumbers to "1."


def _unescaped_markup(escaped: str) -> list[str]:
    """Markup characters Discord would act on: those not behind a backslash (read left to right)."""
    found: list[str] = []
    line_start = True
    chars = iter(escaped)
    for char in chars:
        if char == "\\":
            next(chars, None)
            line_start = False
            continue
        if char in INLINE_MARKUP or (line_start and char in LINE_START_MARKUP):
            found.append(char)
        line_start = char == "\n" or (line_start and char.isspace())
    found += [marker.group(0) for marker in ORDERED_LIST_MARKER.finditer(escaped)]
    return found


def _as_shown(escaped: str) -> str:
    """What Discord shows: each backslash escape as its character; the zero-width breaks invisible."""
    return re.sub(r"\\(.)", r"\1", escaped, flags=re.DOTALL).replace("\u200b", "")


TOKENS = [
    "<t:0:R>",
    "<t:1700000000>",
    "<:x:1>",
    "<a:x:1>",
    "</cmd:1>",
    "</papers show:12>",
    "<@1>",
    "<@!1>",
    "<@&1>",
    "<#1>",
    "<id:customize>",
    "<https://example.org>",
]


@pytest.mark.parametrize("token", TOKENS)
def test_discord_tokens_in_paper_text_show_as_typed(token: str) -> None:
    escaped = escape(f"See {token} now")
    assert _unescaped_markup(escaped) == []
    assert "\\<" in escaped
    assert _as_shown(escaped) == f"See {token} now"


@pytest.mark.parametrize(
    ("title", "shown"),
    [("2. Results that matter", "2. Results that matter"), ("Intro\n 10. Ten", "Intro\n 10. Ten")],
)
def test_a_numbered_title_keeps_its_number(title: str, shown: str) -> None:
    escaped = escape(title)
    assert _unescaped_markup(escaped) == []
    assert _as_shown(escaped) == shown


PIECES = [*"<>:@&#!/tRa01 x\\*_~`|[]-\n\t\u200bé.", "2. ", "everyone", "here", *TOKENS]
# Other blanks and breaks (a line start after them still takes markup), joiners and marks.
PIECES += [*"\u3000\u00a0\r\u2028\x85\u200d\u2060\u202e\u0301\x00", "１. ", "٣. "]
text_with_markup = st.lists(st.sampled_from(PIECES), max_size=20).map("".join) | st.text(max_size=60)


@given(text_with_markup)
def test_any_text_escaped_has_no_live_markup_and_shows_as_typed(text: str) -> None:
    escaped = escape(text)
    assert _unescaped_markup(escaped) == []
    assert _as_shown(escaped) == strip_invisible(text)
    assert "@everyone" not in escaped and "@here" not in escaped  # mentions broken as well


@given(text_with_markup, st.integers(min_value=1, max_value=300))
def test_escaped_text_cut_to_a_limit_stays_within_it_and_shows_as_typed(text: str, limit: int) -> None:
    """Escaping lengthens text: the cut comes after it (the limit holds for what is sent) and never
    splits an escape (no backslash left to swallow the ellipsis or show)."""
    shown = escape_within(text, limit)
    assert len(shown) <= limit
    assert _unescaped_markup(shown) == []
    typed = strip_invisible(text)
    if len(escape(text)) <= limit:
        assert _as_shown(shown) == typed
    else:
        assert shown.endswith(ELLIPSIS) and typed.startswith(_as_shown(shown)[: -len(ELLIPSIS)])


def test_a_title_of_only_markup_is_cut_between_escapes() -> None:
    shown = escape_within("*" * 300, 256)  # 600 characters escaped
    assert len(shown) <= 256 and shown.endswith("\\*" + ELLIPSIS)
