"""An author list's search words made name by name (``name_words``, cached) are the words of the
whole list folded at once: the PostgreSQL ingest builds each paper's search vector from them."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from bot.domain.people import name_words
from bot.domain.text import words

# Characters where folding could reach across the space between two names if anything did: combining
# marks (a name may begin with one), Hangul jamo (NFKC composes them), compatibility forms that
# decompose to a space and a mark (U+00A8, U+00B4), ß and ﬁ (casefold and NFKC expand them), dotless
# ı and other letters the fold table maps, zero-width and bidi controls, Han and kana (a word each),
# the underscore (a separator), lone surrogates.
_TRICKY = (
    "\u0301\u0308\u0345\u1100\u1161\u11a8\uac00\u00a8\u00b4\u00df\ufb01ıøłæ"
    "\u200b\u200d\u202e\ufeff日本語かナ_\ud800 -'"
)
_NAME = st.text(st.one_of(st.characters(codec=None, categories=None), st.sampled_from(_TRICKY)), max_size=12)


@given(st.lists(_NAME, max_size=6))
@example(["Jürgen Müller", "Wei Zhang"])
@example(["José", "\u0301Ana"])  # a name that begins with a combining mark
@example(["\u1100", "\u1161"])  # Hangul jamo that NFKC would compose side by side
@example(["Straße", "ﬁne", "KIRMIZI ılık"])
@example(["山田太郎", "Sato_Yuki", "\u200bAnn\u200d"])
def test_an_author_lists_words_are_its_names_words_in_turn(names: list[str]) -> None:
    assert [word for name in names for word in name_words(name)] == words(" ".join(names))
