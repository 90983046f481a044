"""More like this: the papers closest to one paper, from the store itself (no model, no download).

How: the paper's most distinctive terms (title and abstract words weighted by TF-IDF; see
``bot.domain.similar``) are run as one ranked query, ``{title abstract} : ("t1" OR "t2" ...)``,
scored by FTS5's BM25 (``ts_rank_cd`` on PostgreSQL). BM25 gives a paper more credit the more of the
rare terms it shares, which is what "about the same thing" looks like in text.

Document frequencies: how many papers hold each word in title or abstract is a table the ingest
keeps (``term_docs``, the migration of that name; one row a word, written in the ingest's own
transaction as papers arrive and change). A paper's 60-125 candidate words cost one statement of
B-tree seeks. They used to be probed in the full-text index, a capped walk down each word's doclist
through every index segment: 2.5 ms of CPU a call on average and, on a store not yet in the OS's
page cache (after a start, or once other files pushed it out), megabytes read from disk for one
question: a wall p99 of 321 ms at 106k papers, where the lookups now take 0.2 ms
(docs/performance.md, "Fifth session: similar"). The counts are exact, so the terms chosen, and the
answers, are the same as the probes gave. The price is at ingest: each batch's words are counted
in C by a scratch full-text index on a thread of its own (``bot.storage.word_counts``), and one
upsert a distinct word of the batch is written.

Why not per-paper vectors: TF-IDF or embedding vectors would need a second index whose weights go
stale as the store grows (and, for embeddings, a model download); the FTS index already holds the
postings, and a query of a couple of dozen rare terms touches few rows. Both costs are bounded
whatever the paper: terms in more than ``doc_ceiling`` papers are left out, and the chosen terms'
counts must fit a row budget, so the ranked query scores at most that many rows. Counts, and each
asked paper's chosen terms (a bounded LRU), are cached until the store grows by 5%. All SQL runs
on the store's threads (aiosqlite) or the server (PostgreSQL), so the event loop never waits for it.

Recency window: only the newest ``WINDOW`` papers (about three years of Daily Papers) are ranked, as
search ranks the newest matches of broad queries. BM25 costs about a microsecond per matching row,
and halving the rows roughly halved the ranked query's CPU at 106k papers (6.4 to 3.6 ms); at a million
papers the rows ranked stay those of the newest ``WINDOW`` whatever the store's size.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from bot.domain.models import Paper
from bot.domain.query import quote
from bot.domain.similar import (
    QUERY_BUDGET,
    WeightedTerm,
    candidate_terms,
    distinctive_terms,
    doc_ceiling,
)
from bot.storage.papers import PaperRepository
from bot.storage.similar import TermIndex

DEFAULT_LIMIT = 8
WINDOW = 50_000
_CACHE_LIMIT = 200_000
_PAPERS_CACHED = 4_096


@dataclass(frozen=True, slots=True)
class SimilarPaper:
    paper: Paper
    score: float
    shared: tuple[str, ...]  # the distinctive terms it shares with the source paper


class SimilarPapers:
    def __init__(
        self,
        papers: PaperRepository,
        terms: TermIndex,
        *,
        title_docs: Callable[[], Mapping[str, int]] = dict,
        budget: int = QUERY_BUDGET,
        window: int = WINDOW,
    ) -> None:
        self._papers = papers
        self._terms = terms
        self._title_docs = title_docs  # the search vocabulary: a free lower bound on document counts
        self._budget = budget
        self._window = window
        self._docs: dict[str, int] = {}
        self._cached_at = 0  # corpus size the cached counts belong to
        self._chosen: OrderedDict[str, list[WeightedTerm]] = OrderedDict()  # paper id -> its query terms

    def _expire(self, total: int) -> None:
        """Forget counts (and the terms chosen with them) once the store grew by 5% or shrank."""
        if total > self._cached_at * 1.05 or total < self._cached_at or len(self._docs) > _CACHE_LIMIT:
            self._docs.clear()
            self._chosen.clear()
            self._cached_at = total

    async def _doc_counts(self, terms: list[str], total: int) -> dict[str, int]:
        ceiling = doc_ceiling(total)
        titles = self._title_docs()
        for term in terms:  # in more titles than the ceiling: too common, no need to count
            if term not in self._docs and titles.get(term, 0) >= ceiling:
                self._docs[term] = ceiling
        missing = [t for t in terms if t not in self._docs]
        if missing:
            found = await self._terms.doc_counts(missing, cap=ceiling)
            for term in missing:
                self._docs[term] = found.get(term, 0)
        return {t: self._docs[t] for t in terms}

    async def query_terms(self, paper: Paper, total: int | None = None) -> list[WeightedTerm]:
        """The paper's distinctive terms; ``total``: the store's size when the caller knows it."""
        if total is None:
            total = await self._terms.size()
        self._expire(total)
        key = f"{paper.id}\n{paper.content_hash()}"  # an edited paper is a new question
        chosen = self._chosen.get(key)
        if chosen is None:
            frequencies = candidate_terms(paper.title, paper.abstract)
            docs = await self._doc_counts(list(frequencies), total)
            chosen = distinctive_terms(frequencies, docs, total, budget=self._budget)
            self._chosen[key] = chosen
            if len(self._chosen) > _PAPERS_CACHED:
                self._chosen.popitem(last=False)
        self._chosen.move_to_end(key)
        return chosen

    async def similar(
        self,
        paper: Paper,
        limit: int = DEFAULT_LIMIT,
        *,
        min_pk: int = 0,
        exclude: Collection[int] = (),
    ) -> list[SimilarPaper]:
        """The ``limit`` papers closest to ``paper``, best first (the paper itself never): only
        papers from ``min_pk`` up (the newest) and among the newest ``window``, none of ``exclude``."""
        stored = await self._papers.get(paper.id)
        total = await self._terms.size()
        terms = await self.query_terms(paper, total)
        if not terms:
            return []
        fts = "{title abstract} : (" + " OR ".join(quote(t.term) for t in terms) + ")"
        skip = [*exclude, stored.pk] if stored else list(exclude)
        floor = max(min_pk, total - self._window + 1)
        ranked = await self._terms.ranked(fts, limit=limit, exclude=skip, min_pk=floor)
        found = await self._papers.by_pks(pk for pk, _ in ranked)
        chosen = [t.term for t in terms]
        out = []
        for pk, score in ranked:
            if pk in found:
                other = found[pk].paper
                theirs = set(candidate_terms(other.title, other.abstract))
                out.append(SimilarPaper(other, score, tuple(t for t in chosen if t in theirs)))
        return out
