"""Author and organisation follows: the documented matching rule, and nothing else."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.people import AuthorCredit, Credits, PersonFollow, PersonKind, fold_name, same_author
from bot.domain.text import words as search_words
from bot.errors import InvalidInput
from tests.typed_text import typed_text

CHOSEN = PersonFollow.parse(PersonKind.AUTHOR, "Yann LeCun (@ylecun)")  # picked from autocomplete
TYPED = PersonFollow.parse(PersonKind.AUTHOR, "Y. LeCun")  # typed, no HF account


def by(*slots: tuple[str, str | None]) -> tuple[tuple[str, ...], Credits]:
    """A paper's author names and its HF credits (claimed slots carry the HF user)."""
    return tuple(name for name, _ in slots), Credits(tuple(AuthorCredit(n, u) for n, u in slots))


@pytest.mark.parametrize(
    ("slots", "chosen", "typed"),
    [
        # Claimed by the followed account: matches whatever the name says.
        ([("Yann LeCun", "ylecun")], True, True),
        ([("Yann André LeCun", "ylecun")], True, True),
        ([("Y. Le Cun", "ylecun")], True, False),  # the id decides; by name "le cun" is not "lecun"
        # Claimed by another account: never the followed person, even with the same name.
        ([("Yann LeCun", "someone-else")], False, True),
        # Unclaimed: the normalised-name rule.
        ([("Yann LeCun", None)], True, True),
        ([("Y. LeCun", None)], True, True),
        ([("Y LeCun", None)], True, True),
        ([("Yánn Lecun", None)], True, True),
        ([("YANN LECUN", None)], True, True),
        ([("Yann A. LeCun", None)], True, True),
        ([("Yves LeCun", None)], False, True),  # "Y." is an initial: it cannot tell Yann from Yves
        ([("Yann Lecunn", None)], False, False),
        ([("Lecun Yann", None)], False, False),
        ([("Ann LeCun", None)], False, False),
        ([("LeCun", None)], False, False),
        # One matching slot among others is enough.
        ([("Ada Lovelace", "ada"), ("Y. LeCun", None)], True, True),
    ],
)
def test_author_follows_match_claimed_and_unclaimed_variants_as_documented(
    slots: list[tuple[str, str | None]], chosen: bool, typed: bool
) -> None:
    names, credits = by(*slots)
    assert CHOSEN.matches(names, None, credits) is chosen
    assert TYPED.matches(names, None, credits) is typed
    # Without HF credits (an arXiv paper), every slot is unclaimed: names decide.
    assert CHOSEN.matches(names, None, None) is all_by_name(slots)


def all_by_name(slots: list[tuple[str, str | None]]) -> bool:
    return any(same_author("Yann LeCun", name) for name, _ in slots)


def test_organisations_match_by_hf_id_else_by_folded_name() -> None:
    chosen = PersonFollow.parse(PersonKind.ORG, "NVIDIA (@nvidia)")
    typed = PersonFollow.parse(PersonKind.ORG, "nvidia")
    nvidia = Credits((), "nvidia", "NVIDIA")
    impostor = Credits((), "nvidia-fans", "NVIDIA")
    assert chosen.matches((), None, nvidia) and typed.matches((), None, nvidia)
    assert not chosen.matches((), None, impostor)
    assert typed.matches((), "NVIDIA", None) and chosen.matches((), "Nvidia", None)
    assert not chosen.matches((), "NVIDIA Research", None) and not typed.matches((), None, None)


def test_follows_need_a_name_and_keep_the_chosen_account() -> None:
    assert CHOSEN.hf_id == "ylecun" and CHOSEN.name == "Yann LeCun"
    assert CHOSEN.label == "author Yann LeCun (@ylecun)"
    assert CHOSEN.canonical == "author:ylecun:yann lecun" != TYPED.canonical
    assert PersonFollow.from_canonical(CHOSEN.canonical, "Yann LeCun (@ylecun)") is not None
    assert PersonFollow.from_canonical("diffusion", "diffusion") is None
    for bad in ("LeCun", "  ", "!!!", "x" * 101):
        with pytest.raises(InvalidInput):
            PersonFollow.parse(PersonKind.AUTHOR, bad)


@given(typed_text(max_size=40))
def test_folding_is_idempotent_and_keyword_canonicals_never_look_like_people(text: str) -> None:
    assert fold_name(fold_name(text)) == fold_name(text)
    assert ":" not in fold_name(text)


@given(st.text(max_size=40) | st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_folding_a_name_is_the_same_on_the_ascii_shortcut(text: str) -> None:
    # The ingest folds every author name; plain ASCII skips Unicode normalisation and must fold
    # exactly as the full path does (autocomplete looks rows up by these folded names). A
    # zero-width space (folded away) sends the same letters down the full path.
    assert fold_name(text) == fold_name(text + "\u200b")


# Letters no Unicode decomposition reduces to a base letter, and how people type them in ASCII.
TRANSLITERATED = {
    "Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i",
    "Œ": "OE", "œ": "oe", "Æ": "AE", "æ": "ae", "ß": "ss",
}  # fmt: skip
NAME_WORDS = st.text(alphabet=string.ascii_letters + "".join(TRANSLITERATED), min_size=1, max_size=10)


@given(st.lists(NAME_WORDS, min_size=2, max_size=4))
def test_a_name_folds_as_its_ascii_transliteration_and_as_search_folds_it(words: list[str]) -> None:
    name = " ".join(words)
    typed = "".join(TRANSLITERATED.get(c, c) for c in name)
    assert fold_name(name) == fold_name(typed)
    assert fold_name(name).split() == search_words(name)  # one folding: search's
    assert PersonFollow.parse(PersonKind.AUTHOR, typed).matches([name], None, None)
    assert (
        PersonFollow.parse(PersonKind.AUTHOR, name).canonical
        == PersonFollow.parse(PersonKind.AUTHOR, typed).canonical
    )
