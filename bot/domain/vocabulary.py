"""Words of all titles with their document counts: typo correction and word completion."""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Mapping

from rapidfuzz import fuzz, process

_MIN_SIMILARITY = 70.0


class Vocabulary:
    """In-memory and immutable; rebuilt from storage after an ingest."""

    def __init__(self, docs_by_term: Mapping[str, int]) -> None:
        self.docs = dict(docs_by_term)
        self._sorted = sorted(self.docs)
        # A typo changes a word's length by a character or two and rarely both of its first two
        # letters: only words of similar length sharing the first or the second letter are compared.
        self._buckets: dict[tuple[int, int, str], list[str]] = {}
        for term in self._sorted:
            self._buckets.setdefault((len(term), 0, term[0]), []).append(term)
            if len(term) > 1:
                self._buckets.setdefault((len(term), 1, term[1]), []).append(term)
        self._completions: dict[str, list[str]] = {}

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
        pool = {
            word
            for n in range(len(term) - 2, len(term) + 3)
            for position in (0, 1)
            for word in self._buckets.get((n, position, term[position]), ())
        }
        scored = process.extract(term, pool, scorer=fuzz.ratio, limit=limit * 4, score_cutoff=_MIN_SIMILARITY)
        scored.sort(key=lambda item: (-round(item[1]), -self.docs[item[0]]))
        return [word for word, _, _ in scored[:limit]]

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
