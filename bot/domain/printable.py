"""Text from data made safe for a terminal: what a title or abstract says is shown, never obeyed.

Paper text comes from files and the network. Printed raw, an ANSI or OSC escape in it could recolour,
retitle or clear the user's terminal, a carriage return could overwrite a line, and bidi overrides
could reorder what is read. ``printable`` drops escape sequences and shows every other control
character as a visible stand-in.
"""

from __future__ import annotations

import re

# ESC-introduced sequences: CSI (ESC [ ... final), OSC/DCS/SOS/PM/APC (ESC ] ... BEL or ST),
# and two-character escapes (ESC + one byte). 8-bit C1 introducers become U+FFFD below, so the
# characters after them are inert text.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]?|\x1b[\]PX^_].*?(?:\x07|\x1b\\|\x9c|$)|\x1b[ -~]?", re.DOTALL)
_PICTURES = {code: 0x2400 + code for code in range(0x20)} | {0x7F: 0x2421}  # ␀ ... ␟, ␡
_C1_AND_BIDI = dict.fromkeys([*range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)], 0xFFFD)
# A lone surrogate (an undecodable byte in a file name or argument) cannot be written as UTF-8.
_SURROGATES = dict.fromkeys(range(0xD800, 0xE000), 0xFFFD)
_ONE_LINE = {k: v for k, v in (_PICTURES | _C1_AND_BIDI | _SURROGATES).items() if k != 0x09}
_KEEP_NEWLINES = {k: v for k, v in _ONE_LINE.items() if k != 0x0A}


def without_escapes(text: str) -> str:
    """``text`` without terminal escape sequences, each dropped whole (``ESC[31m``, not just ESC):
    what the terminal and exported files both need."""
    return _ESCAPES.sub("", text)


def printable(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with escape sequences removed and control characters shown as symbols (␍, ␇, ...).
    Tabs, and newlines when ``keep_newlines``, stay as they are."""
    return without_escapes(text).translate(_KEEP_NEWLINES if keep_newlines else _ONE_LINE)
