"""How many recent papers a keyword would have matched, for the "recent matches" of /follow add
and /follow list.

Matching one new follow against every recent paper (up to 2,000) folded each paper's words again
on every /follow add: a third of a second of the event loop per command, and most of the bot's
time while another process ingests. Here the recent papers' words are folded once and indexed
by word (a posting set per word), so a follow's count is a few set operations over its terms.
Same answer as ``FollowMatcher`` paper by paper: a term is present when its words occur next to
each other within one field (``paper_words`` separates fields), and the query tree is evaluated
on the sets of papers holding each term.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from bot.domain.follows import All, Any, Follow, Node, Not, Term


class RecentWords:
    """The normalised words of a fixed set of papers (``paper_words`` of each), indexed by word."""

    def __init__(self, papers: Sequence[tuple[str, ...]]) -> None:
        self._papers = list(papers)
        postings: defaultdict[str, set[int]] = defaultdict(set)
        for index, words in enumerate(self._papers):
            for word in set(words):
                postings[word].add(index)
        self._postings = dict(postings)
        self._everything = frozenset(range(len(self._papers)))

    def __len__(self) -> int:
        return len(self._papers)

    def count(self, follow: Follow) -> int:
        """How many of the papers ``follow`` matches."""
        return len(self._matching(follow.query))

    def _matching(self, node: Node) -> frozenset[int] | set[int]:
        if isinstance(node, Term):
            return self._holding(node.words)
        if isinstance(node, Not):
            return self._everything - self._matching(node.child)
        parts = [self._matching(child) for child in node.children]
        if isinstance(node, All):
            return set.intersection(*map(set, parts))
        assert isinstance(node, Any)
        return set().union(*parts)

    def _holding(self, phrase: tuple[str, ...]) -> set[int]:
        """Papers where the phrase's words occur in this order, next to each other."""
        empty: set[int] = set()
        candidates = set(self._postings.get(phrase[0], empty))
        for word in phrase[1:]:
            candidates &= self._postings.get(word, empty)
        if len(phrase) == 1:
            return candidates
        return {index for index in candidates if _contains(self._papers[index], phrase)}


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    first = phrase[0]
    start = 0
    while True:
        try:
            start = words.index(first, start)
        except ValueError:
            return False
        if words[start : start + size] == phrase:
            return True
        start += 1
