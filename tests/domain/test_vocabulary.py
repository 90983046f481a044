"""A vocabulary followed change by change answers exactly as one built afresh from the same counts:
the same corrections, completions and word counts (so a bot that only applies what each ingest
changed autocompletes as it would after a restart)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.vocabulary import Vocabulary
from tests.property_budget import examples

# Few letters and short words: changes collide with existing words, buckets and prefixes.
WORDS = st.text("abcdeé", min_size=1, max_size=6)
COUNTS = st.dictionaries(WORDS, st.integers(min_value=1, max_value=5), max_size=30)
CHANGES = st.dictionaries(WORDS, st.integers(min_value=0, max_value=5), max_size=10)
PROBES = ["a", "ab", "abc", "abcd", "bad", "cab", "dace", "eé", "é", "abcde", "bbbb"]


def answers(vocabulary: Vocabulary) -> object:
    """Everything a user can observe of a vocabulary."""
    return (
        sorted(vocabulary.docs.items()),
        [vocabulary.correct(word, limit=3) for word in PROBES],
        [vocabulary.complete(prefix, limit=2) for prefix in ("", "a", "ab", "b", "é", "abc")],
        [word in vocabulary for word in PROBES],
        len(vocabulary),
    )


@settings(max_examples=examples(300), deadline=None)
@given(COUNTS, st.lists(CHANGES, max_size=6), st.booleans())
def test_applying_changes_equals_building_afresh(
    start: dict[str, int], changes: list[dict[str, int]], warm: bool
) -> None:
    followed = Vocabulary(start)
    expected = dict(start)
    for change in changes:
        if warm:  # completions cached before a change must not outlive it
            answers(followed)
        followed = followed.with_counts(change)
        for word, count in change.items():
            if count:
                expected[word] = count
            else:
                expected.pop(word, None)
        assert answers(followed) == answers(Vocabulary(expected))


def test_an_older_vocabulary_is_left_as_it_was() -> None:
    """Searches still running on the vocabulary of a moment ago must see it whole."""
    before = Vocabulary({"diffusion": 3, "models": 5})
    after = before.with_counts({"diffusers": 1, "models": 0})
    assert before.complete("diff", 5) == ["diffusion"] and "models" in before
    assert after.complete("diff", 5) == ["diffusers", "diffusion"] and "models" not in after
