"""Text as people type it, drawn so that it holds what the code treats specially.

`st.text()` alone almost never spells `NEAR`, `title:` or `@me`, puts a quote after a minus or
writes `ß` beside a ligature: a bug that waits on such a piece is found once in many runs, by luck
(CI drew the id "commands" once in about four runs). `typed_text` strings such pieces together with
short arbitrary runs and spacing, and is mixed half and half with plain `st.text`.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

# The search and follow grammars (bot/domain/query.py, bot/domain/follows.py) and what FTS5 and
# tsquery would read as syntax if it leaked through.
SEARCH_SYNTAX = (
    '"', "-", '-"', "title:", "abstract:", "author:", "authors:", "-title:", "Title:", "name:",
    "AND", "OR", "NOT", "and", "or", "not", "NEAR", "NEAR(", "NEAR/2", "*", "^", "(", ")", ":",
    "{", "}", "+", "'", "''", "\\", ";", "&", "|", "!", "<->", ":*", "C++", "C#",
    # Look-alikes NFKC folds into syntax (full-width quote, colon and minus) or that only look like it.
    "\uff02", "\uff1a", "\uff0d", "\u2212", "\u201c", "\u201d",
)  # fmt: skip
# Letters folding treats specially: case folds that change length, dotted and dotless i,
# ligatures, full-width and mathematical forms, combining marks, direction and invisible marks,
# scripts written without spaces, a zero byte.
FOLDED_LETTERS = (
    "ß", "ẞ", "ss", "ı", "İ", "i̇", "ﬁ", "ﬀ", "ﬃ", "Å", "é", "é", "ǅ", "ς", "σ", "ŉ",
    "１２３", "Ｎ", "𝓐", "𝟙", "½", "²", "٣", "\u200f", "\u200e", "\u202e", "\u200b", "\u00ad",
    "\ufeff", "扩散", "模型", "の", "カタ", "한국", "\x00", "\n", "\t",
    # Joiners, isolates and marks with no letter of their own to sit on; other spaces and breaks.
    "\u200d", "\u200c", "\u2066", "\u2069", "\u0301", "\u0308", "\u034f", "👩\u200d💻",
    "Ⅻ", "㎏", "①", "\u3000", "\u00a0", "\u2028", "\x85",
)  # fmt: skip
MENTIONS = ("@me", "@everyone", "@here", "<@123>", "<@!123>", "<@&5>", "<#1>", "@", "#", "\uff20everyone")

SPACING = st.sampled_from(["", " ", " ", "  ", "\t"])


def typed_text(
    pieces: Sequence[str] = SEARCH_SYNTAX + FOLDED_LETTERS + MENTIONS, *, max_size: int
) -> st.SearchStrategy[str]:
    """Arbitrary text, or (as often) `pieces` and short arbitrary runs strung together, at most
    `max_size` characters either way. Enough pieces to fill `max_size`, so that a test which
    draws past a parser's own bound (a query's 300 characters, its twelve terms) reaches it with
    syntax, not only with the rare long plain text."""
    piece = st.sampled_from(list(pieces)) | st.text(max_size=6)
    strung = st.lists(st.tuples(piece, SPACING).map("".join), max_size=max(12, max_size // 4)).map(
        lambda parts: "".join(parts)[:max_size]
    )
    return st.text(max_size=max_size) | strung
