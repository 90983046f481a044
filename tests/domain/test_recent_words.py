"""The "recent matches" count of /follow add and /follow list: the indexed recent papers give
the same count as matching the follow against every paper one by one."""

from __future__ import annotations

from hypothesis import assume, given, settings

from bot.domain.follows import All, Any, FollowMatcher, Not, Term, paper_words, parse_keyword
from bot.domain.recent_words import RecentWords
from tests.domain.test_follows import FOLLOW_NODES, PAPER_TEXTS, parsed_follows
from tests.property_budget import examples


def test_counts_phrases_within_a_field_and_exclusions() -> None:
    recent = RecentWords(
        [
            paper_words("Low rank adaptation", "of diffusion models", ["video"]),
            paper_words("Efficient low", "rank adaptation", []),  # the phrase spans two fields
            paper_words("Video diffusion", "a model of videos", []),
            paper_words("Graph pruning", "lottery tickets", []),
        ]
    )
    assert recent.count(parse_keyword("low rank")) == 1
    assert recent.count(parse_keyword("diffusion")) == 2
    assert recent.count(parse_keyword("diffusion -video")) == 0
    assert recent.count(parse_keyword("pruning OR adaptation")) == 3
    assert recent.count(parse_keyword('"rank adaptation" AND diffusion')) == 1
    assert recent.count(parse_keyword("transformer")) == 0
    assert len(RecentWords([])) == 0 and RecentWords([]).count(parse_keyword("graph")) == 0


@settings(max_examples=examples(200), deadline=None)
@given(FOLLOW_NODES, PAPER_TEXTS)
def test_count_agrees_with_matching_paper_by_paper(
    nodes: list[All | Any | Not | Term], texts: list[list[str]]
) -> None:
    follows = list(parsed_follows(nodes).values())
    assume(follows)
    papers = [paper_words(" ".join(words[:5]), " ".join(words[5:]), words[-2:]) for words in texts]
    recent = RecentWords(papers)
    for follow in follows:
        one_by_one = FollowMatcher([(0, follow)])
        assert recent.count(follow) == sum(1 for words in papers if one_by_one.match(words))
