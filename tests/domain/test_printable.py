"""Text from data is shown, never obeyed by the terminal."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.printable import printable

CONTROLS = [*range(0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
UNSAFE = {chr(c) for c in [*CONTROLS, *range(0xD800, 0xE000)]}  # and lone surrogates: not writable


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x1b[31mred\x1b[0m b", "ared b"),  # SGR colours
        ("x\x1b[2J\x1b[Hy", "xy"),  # clear screen, cursor home
        ("x\x1b]0;pwned\x07y", "xy"),  # OSC window title, BEL-terminated
        ("x\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\y", "xlinky"),  # OSC 8 hyperlink, ST-terminated
        ("x\x1b]52;c;ZXZpbA==", "x"),  # OSC 52 clipboard write, unterminated
        ("a\x9b31mb", "a\ufffd31mb"),  # 8-bit CSI: inert
        ("cr\rover", "cr␍over"),
        ("bell\x07 nul\x00 del\x7f", "bell␇ nul␀ del␡"),
        ("bidi\u202eevil\u2066", "bidi\ufffdevil\ufffd"),
        ("tabs\tand\nlines", "tabs\tand\nlines"),
        ("[/INST] [cls] :smile:", "[/INST] [cls] :smile:"),
        (
            "caf\udce9 \ud800",
            "caf\ufffd \ufffd",
        ),  # undecodable bytes: writable as UTF-8  # brackets are text, not markup
    ],
)
def test_escapes_go_and_controls_show(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_one_line_shows_newlines_as_symbols() -> None:
    assert printable("a\nb", keep_newlines=False) == "a␊b"


@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_nothing_a_terminal_obeys_survives(text: str) -> None:
    shown = printable(text)
    assert not (set(shown) & (UNSAFE - {"\n", "\t"}))
    assert not (set(printable(text, keep_newlines=False)) & (UNSAFE - {"\t"}))


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_plain_text_is_unchanged(text: str) -> None:
    assert printable(text) == text
