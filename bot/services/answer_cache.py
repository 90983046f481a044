"""A bounded cache of answers that stay right until the papers change.

Search results and title suggestions depend only on what was typed and on the stored papers, and
members repeat themselves (the same topic, a page asked again, a title typed letter by letter), so
an answer is kept until the next ingest (``clear``) or until it is among the least recently used
beyond ``size`` answers or, given a ``weigh`` function, beyond ``budget_bytes``. An answer
computed while an ingest landed may predate it: it is only kept if no ``clear`` happened since its
computation began (the ``epoch`` taken before it).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class AnswerCache(Generic[K, V]):
    def __init__(
        self, size: int, *, budget_bytes: int | None = None, weigh: Callable[[V], int] | None = None
    ) -> None:
        self._size = size
        self._budget = budget_bytes
        self._weigh = weigh
        self._answers: OrderedDict[K, tuple[V, int]] = OrderedDict()  # answer, its weight
        self.bytes = 0  # the answers' weights together (0 without ``weigh``)
        self.epoch = 0  # bumped by every clear
        self.hits = 0
        self.misses = 0

    def get(self, key: K) -> V | None:
        kept = self._answers.get(key)
        if kept is None:
            self.misses += 1
            return None
        self.hits += 1
        self._answers.move_to_end(key)
        return kept[0]

    def put(self, key: K, answer: V, *, since: int) -> None:
        """Keep ``answer``, computed from epoch ``since`` on, unless the papers changed meanwhile."""
        if since != self.epoch or self._size <= 0:
            return
        weight = self._weigh(answer) if self._weigh is not None else 0
        if self._budget is not None and weight > self._budget:
            return  # larger than the whole budget: it would only push everything else out
        replaced = self._answers.pop(key, None)
        if replaced is not None:
            self.bytes -= replaced[1]
        self._answers[key] = (answer, weight)
        self.bytes += weight
        while len(self._answers) > self._size or (self._budget is not None and self.bytes > self._budget):
            _, (_, dropped) = self._answers.popitem(last=False)
            self.bytes -= dropped

    def clear(self) -> None:
        self._answers.clear()
        self.bytes = 0
        self.epoch += 1

    def __len__(self) -> int:
        return len(self._answers)
