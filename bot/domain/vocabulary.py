"""Words of all titles with their document counts: typo correction and word completion."""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Mapping

from rapidfuzz import fuzz, process

_MIN_SIMILARITY = 70.0
# A close word found among those sharing the typed word's first letters in place: no need to look
# crosswise (one letter changed in a 7-letter word scores 85.7).
_CONFIDENT = 85.0


Bucket = tuple[int, int, str]


class Vocabulary:
    """In-memory and immutable: built once from storage, then followed by ``with_counts`` as
    ingests change words' counts (a new vocabulary that shares what did not change)."""

    def __init__(self, docs_by_term: Mapping[str, int]) -> None:
        self.docs = dict(docs_by_term)
        self._sorted = sorted(self.docs)
        # A typo changes a word's length by a character or two and rarely both of its first two
        # letters: only words of similar length sharing the first or the second letter (in either
        # place) are compared.
        self._buckets: dict[Bucket, list[str]] = {}
        for term in self._sorted:
            for key in _buckets_of(term):
                self._buckets.setdefault(key, []).append(term)
        self._completions: dict[str, list[str]] = {}

    def with_counts(self, changed: Mapping[str, int]) -> Vocabulary:
        """This vocabulary with the title counts of ``changed`` words replaced (0: no title holds
        the word any more). Costs about the number of changed words plus one linear merge of new
        words into the sorted list, not a rebuild; equal to ``Vocabulary`` of the resulting counts."""
        docs = dict(self.docs)
        added: list[str] = []
        removed: set[str] = set()
        for term, count in changed.items():
            if count > 0:
                if term not in docs:
                    added.append(term)
                docs[term] = count
            elif docs.pop(term, None) is not None:
                removed.add(term)
        ordered = [t for t in self._sorted if t not in removed] if removed else self._sorted
        if added:
            ordered = ordered + sorted(added)
            ordered.sort()  # two sorted runs: Timsort merges them in linear time
        buckets = dict(self._buckets)
        copied: set[Bucket] = set()
        for term in [*added, *removed]:
            for key in _buckets_of(term):
                if key not in copied:  # lists are shared with older vocabularies: copy on write
                    buckets[key] = list(buckets.get(key, ()))
                    copied.add(key)
                if term in removed:
                    buckets[key].remove(term)
                else:
                    bisect.insort(buckets[key], term)
        result = Vocabulary.__new__(Vocabulary)
        result.docs, result._sorted = docs, ordered
        result._buckets = {key: terms for key, terms in buckets.items() if terms}
        # Cached completions of a prefix that a changed word starts with may now rank differently.
        stale = {term[:length] for term in changed for length in range(3)}  # what ``complete`` caches
        result._completions = {p: found for p, found in self._completions.items() if p not in stale}
        return result

    def __len__(self) -> int:
        return len(self.docs)

    def __contains__(self, term: object) -> bool:
        return term in self.docs

    def correct(self, term: str, limit: int = 2) -> list[str]:
        """The closest known words to a misspelt ``term``, most similar first (frequency breaks ties)."""
        if term in self.docs:
            return [term]
        if len(term) < 3:
            return []
        scored = self._closest(term, ((0, term[0]), (1, term[1])), limit)
        if not scored or scored[0][1] < _CONFIDENT:
            # Crosswise too, only now (it doubles the words compared): a first letter dropped or
            # doubled ("obustness", "ggrpo") or the first two swapped ("alnguage") moves the word's
            # first or second letter to the other position.
            scored = self._closest(term, ((0, term[0]), (1, term[1]), (1, term[0]), (0, term[1])), limit)
        return [word for word, _, _ in scored[:limit]]

    def _closest(
        self, term: str, letters: tuple[tuple[int, str], ...], limit: int
    ) -> list[tuple[str, float, int]]:
        """Known words of about ``term``'s length with one of ``letters`` (position, letter), most
        similar first (frequency breaks ties)."""
        pool = {
            word
            for n in range(len(term) - 2, len(term) + 3)
            for position, letter in letters
            for word in self._buckets.get((n, position, letter), ())
        }
        scored = process.extract(term, pool, scorer=fuzz.ratio, limit=limit * 4, score_cutoff=_MIN_SIMILARITY)
        scored.sort(key=lambda item: (-round(item[1]), -self.docs[item[0]]))
        return scored

    def complete(self, prefix: str, limit: int = 8) -> list[str]:
        """The most frequent known words starting with ``prefix``."""
        cached = self._completions.get(prefix)
        if cached is not None and len(cached) >= limit:
            return cached[:limit]
        start = bisect.bisect_left(self._sorted, prefix)
        end = bisect.bisect_left(self._sorted, prefix + "\U0010ffff")
        if end - start <= limit:
            return self._sorted[start:end]
        found = heapq.nlargest(limit, self._sorted[start:end], key=self.docs.__getitem__)
        if len(prefix) <= 2:  # short prefixes span many words and recur on every keystroke
            self._completions[prefix] = found
        return found


def _buckets_of(term: str) -> list[Bucket]:
    return [(len(term), position, term[position]) for position in range(min(2, len(term)))]
