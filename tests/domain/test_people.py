"""Author and organisation follows: the documented matching rule, and nothing else."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.people import AuthorCredit, Credits, PersonFollow, PersonKind, fold_name, same_author
from bot.errors import InvalidInput

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


@given(st.text(max_size=40))
def test_folding_is_idempotent_and_keyword_canonicals_never_look_like_people(text: str) -> None:
    assert fold_name(fold_name(text)) == fold_name(text)
    assert ":" not in fold_name(text)


@given(st.text(max_size=40) | st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_folding_a_name_is_the_same_on_the_ascii_shortcut(text: str) -> None:
    # The ingest folds every author name; plain ASCII skips Unicode normalisation and must fold
    # exactly as the full path does (autocomplete looks rows up by these folded names).
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    assert fold_name(text) == " ".join(re.sub(r"[^\w]+|_", " ", plain).split())
