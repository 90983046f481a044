from __future__ import annotations

import contextlib

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from bot.domain.follows import (
    All,
    Any,
    Follow,
    FollowMatcher,
    Not,
    Term,
    naive_matches,
    normalise_words,
    paper_words,
    parse_key,
    parse_keyword,
    stem,
)
from bot.errors import InvalidInput
from tests.property_budget import examples
from tests.typed_text import typed_text


def test_normalisation_folds_case_accents_hyphens_and_plurals() -> None:
    assert normalise_words("Low-Rank") == normalise_words("low rank") == ("low", "rank")
    assert normalise_words("Réseaux Models studies") == ("reseaux", "model", "study")
    assert stem("class") == "class" and stem("bus") == "bus" and stem("gas") == "gas"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("diffusion AND video", "diffusion AND video"),
        ("Video and Diffusion", "diffusion AND video"),
        ('"reward model" OR RLHF', '"reward model" OR rlhf'),
        ("reward models or rlhf", '"reward model" OR rlhf'),
        ("pruning -lottery", "-lottery AND pruning"),
        ("pruning NOT lottery", "-lottery AND pruning"),
        ("Low-Rank Adaptation", '"low rank adaptation"'),
        ("(a OR b) c", "(a OR b) AND c"),
    ],
)
def test_keywords_parse_to_canonical_queries(text: str, key: str) -> None:
    assert parse_keyword(text).key == key


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('"open', "quote is not closed"),
        ("-lottery", "only excludes"),
        ("diffusion AND", "ends with an operator"),
        ("(diffusion", "not closed"),
        # Parentheses opened and nothing else: the missing ")" is the problem, not an operator.
        ("((((", "A “\\(” is not closed in “\\(\\(\\(\\(”: put words and a “\\)” after it"),
        ("diffusion (", "A “\\(” is not closed"),
        ("diffusion)", "without its"),
        ("OR video", "cannot stand there"),
        ("   ", "empty"),
        ("x" * 101, "100 characters"),
        ("a b c d e f g", "at most 6 words"),
        ("a OR b OR c OR d OR e OR f OR g OR h OR i", "at most 8"),
        ("!!!", "no letters"),
    ],
)
def test_invalid_keywords_say_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        parse_keyword(text)


def test_a_chinese_or_japanese_word_inside_a_longer_run_is_matched_as_search_finds_it() -> None:
    # Written without spaces: each character is a word (as in the search index), the keyword the
    # phrase of its characters, found inside the run and nowhere its characters stand apart.
    follows = {1: parse_keyword("扩散"), 2: parse_keyword("日本語"), 3: parse_keyword("型模")}
    matcher = FollowMatcher(follows.items())
    assert matcher.match(paper_words("扩散模型的研究", "", ())) == [1]
    assert matcher.match(paper_words("Title", "日本語の論文", ())) == [2]
    assert matcher.match(paper_words("扩 and 散", "", ())) == []
    # A long Chinese word is one word as typed, not seven: within the phrase limit.
    assert parse_keyword("扩散模型的研究").key == '"扩 散 模 型 的 研 究"'


def test_matching_is_at_whole_word_boundaries_across_title_abstract_keywords() -> None:
    follows = {
        1: parse_keyword("low-rank adaptation"),
        2: parse_keyword("pruning -lottery"),
        3: parse_keyword("diffusion AND video"),
        4: parse_keyword("rank"),
        5: parse_keyword("LoRA"),
    }
    matcher = FollowMatcher(follows.items())
    text = paper_words("Low Rank Adaptations for Video", "We study pruning of diffusion models.", ["LoRA"])
    assert sorted(matcher.match(text)) == [1, 2, 3, 4, 5]
    assert matcher.match(paper_words("Rankings of prunings", "lottery tickets and pruning", [])) == []
    # A phrase never spans two fields.
    assert matcher.match(paper_words("Efficient low", "rank adaptation", [])) == [4]


# Words normalising treats specially beside plain ones: plurals and look-alike plurals, kept
# symbols, hyphens, ß/ss, ligatures, accents and case, Han characters (each a word), operators.
_word = st.sampled_from(
    ["diffusion", "video", "model", "models", "pruning", "lottery", "rank", "low", "graph",
     "studies", "study", "news", "C++", "C#", "low-rank", "Straße", "STRASSE", "ﬁne", "Élan",
     "扩散", "and", "or", "not"]
)  # fmt: skip


@st.composite
def _nodes(draw: st.DrawFn, depth: int = 0) -> All | Any | Not | Term:
    if depth >= 2 or draw(st.booleans()):
        return Term(tuple(normalise_words(" ".join(draw(st.lists(_word, min_size=1, max_size=2))))))
    kind = draw(st.sampled_from(["all", "any", "not"]))
    if kind == "not":
        return Not(draw(_nodes(depth + 1)))
    children = tuple(draw(st.lists(_nodes(depth + 1), min_size=2, max_size=3)))
    return All(children) if kind == "all" else Any(children)


@settings(max_examples=examples(300), deadline=None)
@given(_nodes())
def test_render_then_parse_is_stable(node: All | Any | Not | Term) -> None:
    try:
        once = parse_keyword(node.render())
    except InvalidInput:
        return  # e.g. a pure negation, or too many terms: refused either way
    assert parse_keyword(once.key).key == once.key


def parsed_follows(nodes: list[All | Any | Not | Term]) -> dict[int, Follow]:
    """The nodes a member could follow (by position), as parsed keywords; the rest are refused."""
    follows = {}
    for index, node in enumerate(nodes):
        with contextlib.suppress(InvalidInput):
            follows[index] = parse_keyword(node.render())
    return follows


FOLLOW_NODES = st.lists(_nodes(), min_size=1, max_size=12)  # what members might type, as queries
PAPER_TEXTS = st.lists(st.lists(_word, min_size=3, max_size=25), min_size=1, max_size=5)


@settings(max_examples=examples(200), deadline=None)
@given(FOLLOW_NODES, PAPER_TEXTS)
def test_matcher_agrees_with_the_naive_reference(
    nodes: list[All | Any | Not | Term], texts: list[list[str]]
) -> None:
    follows = parsed_follows(nodes)
    assume(follows)
    matcher = FollowMatcher(follows.items())
    for words in texts:
        text = paper_words(" ".join(words[:5]), " ".join(words[5:]), [])
        assert sorted(matcher.match(text)) == sorted(naive_matches(follows, text))


@settings(max_examples=examples(300))
@given(typed_text(max_size=120))
@example("大规模语言模型")  # seven characters typed as one word: its key spells them as seven
@example('diffusion "or"')  # the word "or", quoted: its key must not read as the operator
# Within the 100 characters typed; its key, with " AND " spelt out seven times, is not.
@example("reinforcement learning -robotics -atari -mujoco -locomotion -manipulation -navigation -games")
def test_a_keys_canonical_form_reads_back_as_itself(text: str) -> None:
    """A digest topic is stored as its key and parsed again at every post (bot/domain/topics.py):
    a key that does not parse leaves that digest failing every day."""
    try:
        follow = parse_keyword(text)
    except InvalidInput:
        return
    assert parse_key(follow.key).key == follow.key


@given(typed_text(max_size=120))
def test_any_text_parses_or_fails_cleanly(text: str) -> None:
    with contextlib.suppress(InvalidInput):
        parse_keyword(text)
