from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.ids import canonical_id, parse_arxiv_id, title_id
from bot.domain.text import fold, title_key, word_set, words
from tests.typed_text import FOLDED_LETTERS, typed_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2401.12345", "2401.12345"),
        ("2401.12345v3", "2401.12345"),
        ("arXiv:2401.1234v1", "2401.1234"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("math.GT/0309136v2", "math.GT/0309136"),
        ("https://arxiv.org/abs/2401.12345v2", "2401.12345"),
        ("https://arxiv.org/pdf/2401.12345", "2401.12345"),
        ("https://huggingface.co/papers/2401.12345", "2401.12345"),
        ("not an id", None),
        ("2401.123", None),
    ],
)
def test_arxiv_ids_lose_their_version(text: str, expected: str | None) -> None:
    assert parse_arxiv_id(text) == expected


def test_canonical_id_prefers_arxiv_then_title() -> None:
    assert canonical_id("2401.12345", "Whatever") == "2401.12345"
    assert canonical_id(None, "Deep  Learning!") == canonical_id(None, "deep learning")
    assert title_id("Élan Vital") == title_id("elan vital")


def test_title_key_ignores_case_accents_punctuation_and_invisible_characters() -> None:
    assert title_key("  Réseaux: Low-Rank\u200b Adaptation ") == "reseaux low rank adaptation"
    assert fold("ÉCOLE") == "ecole"
    assert words("GPT-4V(ision)") == ["gpt", "4v", "ision"]


@given(typed_text(max_size=80))
def test_title_key_is_idempotent(text: str) -> None:
    assert title_key(title_key(text)) == title_key(text)


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_text_splits_into_the_words_the_general_rule_gives(text: str) -> None:
    # words() splits ASCII text by byte translation (the ingest's hot path): the same words.
    from bot.domain.text import _WORD

    assert words(text) == _WORD.findall(fold(text))


# ASCII letters, digits and every kind of separator, most often; any character, sometimes; the
# letters folding treats specially (ß, ligatures, dotless i, full-width digits) strung in too.
_MOSTLY_ASCII = (
    st.text(st.characters(max_codepoint=127)) | st.text() | typed_text(FOLDED_LETTERS, max_size=80)
)


@given(_MOSTLY_ASCII)
def test_the_ingest_counts_the_words_search_splits(text: str) -> None:
    # The ingest's document counts ("more like this") come from word_set; they must be of the
    # words the index and queries hold.
    assert word_set(text) == set(words(text))


def test_word_set_splits_ascii_at_every_non_alphanumeric_character() -> None:
    assert word_set("Vision-Language_Models (v2.1): ZERO-shot, zero-SHOT!") == {
        "vision",
        "language",
        "models",
        "v2",
        "1",
        "zero",
        "shot",
    }
