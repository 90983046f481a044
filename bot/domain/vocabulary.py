"""Words of all titles with their document counts: typo correction and word completion."""

from __future__ import annotations

import bisect
from collections.abc import Mapping

from rapidfuzz import fuzz, process

_MIN_SIMILARITY = 70.0


class Vocabulary:
    """In-memory and immutable; rebuilt from storage after an ingest."""

    def __init__(self, docs_by_term: Mapping[str, int]) -> None:
        self.docs = dict(docs_by_term)
        self._sorted = sorted(self.docs)
        # Typos change a word's length by a character or two: only words of similar length are compared.
        self._by_length: dict[int, list[str]] = {}
        for term in self._sorted:
            self._by_length.setdefault(len(term), []).append(term)

    def __len__(self) -> int:
        return len(self.docs)

    def __contains__(self, term: object) -> bool:
        return term in self.docs

    def frequency(self, term: str) -> int:
        return self.docs.get(term, 0)

    def correct(self, term: str, limit: int = 2) -> list[str]:
        """The closest known words to a misspelt ``term``, most similar first (frequency breaks ties)."""
        if term in self.docs:
            return [term]
        if len(term) < 3:
            return []
        pool = [w for n in range(len(term) - 2, len(term) + 3) for w in self._by_length.get(n, ())]
        scored = process.extract(term, pool, scorer=fuzz.ratio, limit=limit * 4, score_cutoff=_MIN_SIMILARITY)
        scored.sort(key=lambda item: (-round(item[1]), -self.docs[item[0]]))
        return [word for word, _, _ in scored[:limit]]

    def complete(self, prefix: str, limit: int = 8) -> list[str]:
        """The most frequent known words starting with ``prefix``."""
        start = bisect.bisect_left(self._sorted, prefix)
        end = bisect.bisect_left(self._sorted, prefix + "\U0010ffff")
        if end - start <= limit:
            return self._sorted[start:end]
        return sorted(self._sorted[start:end], key=lambda w: -self.docs[w])[:limit]
