"""Which words mix Latin letters with Cyrillic or Greek look-alikes (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.lookalikes import mixed_lookalikes

CYRILLIC_TWIN = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "y": "у", "x": "х"}
latin_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
russian_words = st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюя", min_size=1, max_size=12)
greek_words = st.text(alphabet="αβγδεζηθικλμνξοπρστυφχψω", min_size=1, max_size=12)


@given(st.lists(st.one_of(latin_words, russian_words, greek_words), min_size=1, max_size=5))
def test_words_each_in_one_script_are_never_refused(words: list[str]) -> None:
    assert mixed_lookalikes(" ".join(words)) == []


@given(latin_words.filter(lambda word: len(word) >= 3 and any(c in CYRILLIC_TWIN for c in word)), st.data())
def test_a_latin_word_with_one_letter_swapped_for_its_cyrillic_twin_names_that_letter(
    word: str, data: st.DataObject
) -> None:
    at = data.draw(st.sampled_from([i for i, c in enumerate(word) if c in CYRILLIC_TWIN]))
    twin = CYRILLIC_TWIN[word[at]]
    [named] = mixed_lookalikes(word[:at] + twin + word[at + 1 :])
    assert named.startswith(f"{twin} (U+{ord(twin):04X} CYRILLIC SMALL LETTER")
