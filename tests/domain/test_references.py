"""Which paper a typed title names (bot.domain.references): whole, in part, or none."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.references import named_title
from bot.domain.text import words

TITLES = [
    ("2401.00001", "Federated Learning with Limited Labels"),
    ("2401.00002", "FRL: Federated Rank Learning"),
    ("2401.00003", "Élan: Diffusion Models for Video"),
]


def test_a_whole_title_wins_over_a_better_ranked_partial_match() -> None:
    assert named_title("frl: federated rank learning", TITLES) == "2401.00002"
    assert named_title("ELAN: diffusion models for video", TITLES) == "2401.00003"  # case and accents aside


def test_part_of_a_title_names_the_best_ranked_title_holding_every_word() -> None:
    assert named_title("federated learn", TITLES) == "2401.00001"  # the last word may be unfinished
    assert named_title("rank federated", TITLES) == "2401.00002"  # in any order
    assert named_title("federated video", TITLES) is None
    assert named_title("  ", TITLES) is None


title_words = st.lists(st.from_regex(r"[a-z]{2,8}", fullmatch=True), min_size=1, max_size=8)


@given(title_words, st.data())
def test_any_run_of_a_titles_words_names_it_when_it_is_the_only_title(
    chosen: list[str], data: st.DataObject
) -> None:
    title = " ".join(chosen).title()
    start = data.draw(st.integers(0, len(chosen) - 1))
    end = data.draw(st.integers(start + 1, len(chosen)))
    typed = " ".join(chosen[start:end])
    cut = data.draw(st.integers(1, len(chosen[end - 1])))
    typed = typed[: len(typed) - len(chosen[end - 1]) + cut]  # the last word half typed
    assert named_title(typed, [("x", title)]) == "x"
    assert words(typed)
