"""A bounded cache of answers that stay right until the papers change.

Search results and title suggestions depend only on what was typed and on the stored papers, and
members repeat themselves (the same topic, a page asked again, a title typed letter by letter), so
an answer is kept until the next ingest (``clear``) or until it is among the least recently used
beyond ``size``. An answer computed while an ingest landed may predate it: it is only kept if no
``clear`` happened since its computation began (the ``epoch`` taken before it).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class AnswerCache(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._answers: OrderedDict[K, V] = OrderedDict()
        self.epoch = 0  # bumped by every clear
        self.hits = 0
        self.misses = 0

    def get(self, key: K) -> V | None:
        answer = self._answers.get(key)
        if answer is None:
            self.misses += 1
            return None
        self.hits += 1
        self._answers.move_to_end(key)
        return answer

    def put(self, key: K, answer: V, *, since: int) -> None:
        """Keep ``answer``, computed from epoch ``since`` on, unless the papers changed meanwhile."""
        if since != self.epoch or self._size <= 0:
            return
        self._answers[key] = answer
        self._answers.move_to_end(key)
        if len(self._answers) > self._size:
            self._answers.popitem(last=False)

    def clear(self) -> None:
        self._answers.clear()
        self.epoch += 1

    def __len__(self) -> int:
        return len(self._answers)
