"""Which words of a paper make a good "more like this" query. Pure: counts in, terms out.

A paper's distinctive terms are the words of its title and abstract weighted by TF-IDF: how often
the paper uses them (a title word counts ``TITLE_WEIGHT`` times) times how rare they are in the
store (inverse document frequency, from the per-word counts the ingest keeps). Stop words,
numbers, very short words, words no other paper holds and words most papers hold are left out.
The chosen terms' document counts must also fit a budget, which bounds how many rows the ranked
query can touch.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from bot.domain.text import words

TITLE_WEIGHT = 3
MAX_TERMS = 16
MIN_LENGTH = 3
MAX_DOC_SHARE = 0.1  # a word in more than 10% of papers says little about a topic...
MAX_TERM_DOCS = 1_000  # ...and in a large store, neither does one in thousands of papers
QUERY_BUDGET = 5_000  # most rows the ranked query may touch (the chosen terms' document counts)
_STOP_WORDS_TEXT = """
about above after again against all also although among an and any are around as at based be
because been before being below between both but by can could did do does doing done down during
each either even ever every few for from further had has have having here how however if in into
is it its itself just least less like made make makes many may more most much must near new no
nor not now of off often on once one only onto or other others our out over own per rather same
several should show shows shown since so some such than that the their them then there these they
this those though through thus to too toward towards under until up upon us use used uses using
very via was we well were what when where whether which while who whom whose why will with within
without would yet you your paper papers propose proposed proposes present presents approach
approaches method methods results result work works novel existing recent recently demonstrate
demonstrates achieve achieves achieved significantly significant first two three various
furthermore moreover additionally specifically particular therefore extensive experiments
experimental state art performance outperforms better introduce introduces available code
github https www com org released release study studies task tasks problem problems
"""
# Words of any abstract (and academic boilerplate) that name no topic.
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


@dataclass(frozen=True, slots=True)
class WeightedTerm:
    term: str
    weight: float
    docs: int


def candidate_terms(title: str, abstract: str) -> Counter[str]:
    """Term frequencies of a paper, title words counting ``TITLE_WEIGHT`` times; stop words dropped."""
    counts: Counter[str] = Counter()
    for weight, text in ((TITLE_WEIGHT, title), (1, abstract)):
        for word in words(text):
            if len(word) >= MIN_LENGTH and not word.isdigit() and word not in STOP_WORDS:
                counts[word] += weight
    return counts


def idf(docs: int, total: int) -> float:
    """BM25's inverse document frequency (never negative)."""
    return math.log(1 + (total - docs + 0.5) / (docs + 0.5))


def doc_ceiling(total: int) -> int:
    """The most papers a useful term may be in (document counts are probed no further)."""
    return max(2, min(MAX_TERM_DOCS, int(total * MAX_DOC_SHARE)))


def distinctive_terms(
    frequencies: Mapping[str, int],
    docs: Mapping[str, int],
    total: int,
    *,
    limit: int = MAX_TERMS,
    budget: int = QUERY_BUDGET,
) -> list[WeightedTerm]:
    """The ``limit`` best TF-IDF terms whose document counts add up to at most ``budget``.

    ``docs`` holds each term's document count (the paper itself included); terms held by no other
    paper, or by more than ``doc_ceiling`` papers, cannot find related papers."""
    ceiling = doc_ceiling(total) - 1  # a count at the ceiling was cut off there: too common
    scored = [
        WeightedTerm(term, (1 + math.log(tf)) * idf(docs[term], total), docs[term])
        for term, tf in frequencies.items()
        if 2 <= docs.get(term, 0) <= ceiling
    ]
    scored.sort(key=lambda t: (-t.weight, t.term))
    chosen: list[WeightedTerm] = []
    spent = 0
    for term in scored:
        if len(chosen) == limit:
            break
        if spent + term.docs > budget:
            continue
        chosen.append(term)
        spent += term.docs
    return chosen
