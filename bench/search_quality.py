"""Search quality on real papers: ``python -m bench search-quality``.

Method (fixed, so anyone gets the same figures):

* **Corpus**: the 10,630 real Hugging Face Daily Papers of ``../shared/corpus/hf-daily-papers``, ingested
  as the bot ingests them (``bench.similar.corpus_database``).
* **Labels**: HF's ``ai_keywords`` (folded and trimmed). A paper is relevant to a query when its own
  keywords hold the query keyword. Keywords are stored but **not indexed**: the full-text index holds
  title, abstract and authors only, so no system can find a paper through its label string (no label
  leakage). 41% of the papers have no keywords and count as not relevant for every system, so the
  absolute figures are a lower bound; the comparison between systems is what they are for.
* **Queries**: the keywords used by ``MIN_USES``..``MAX_USES`` papers, ``--queries`` of them drawn with
  ``random.Random(--seed)`` (default 300 with seed 14), typed as HF wrote them.
* **Typos**: each query with one edit inside its longest word (two neighbouring letters swapped, a
  letter dropped, doubled or replaced), drawn with the same seed, such that the misspelt word occurs
  in no paper (a typo that happens to be a real word is not a typo the search could notice).
* **Systems**: ``/papers search`` (``SearchEngine.find``, the very service the command calls); the same
  without what lifted it, one change at a time (no phrase-first order; the title weighted 10 times the
  abstract, as before, which with no phrase-first order is the search as it was); plain BM25: every
  word of the query, title and abstract weighted alike, no spelling correction.
* **Metrics** over the first 10 results: P@10, nDCG@10 (binary gains) and the share of queries with at
  least one relevant result.
"""

from __future__ import annotations

import random
import statistics
import string
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from math import log2
from pathlib import Path
from typing import Any

from bench.similar import corpus_database, corpus_papers
from bot.domain.query import Mode, parse_search, to_fts
from bot.domain.text import clean_line, fold, words
from bot.services.papers import PaperService
from bot.services.search import SEARCH_WEIGHTS, SearchEngine
from bot.storage.database import Database
from bot.storage.papers import PLAIN_BM25, Weights
from bot.storage.repositories import Repositories

MIN_USES = 20
MAX_USES = 300
K = 10

Ranker = Callable[[str], Awaitable[list[str]]]  # query text -> paper ids, best first


@dataclass(frozen=True, slots=True)
class Scores:
    precision: float
    ndcg: float
    found_any: float  # share of queries with at least one relevant paper in the first K
    ms_p50: float


def keyword_labels(keywords_by_paper: dict[str, Sequence[str]]) -> dict[str, set[str]]:
    """Folded keyword -> the ids of the papers HF labelled with it."""
    papers: dict[str, set[str]] = {}
    for paper_id, keywords in keywords_by_paper.items():
        for keyword in keywords:
            key = clean_line(fold(keyword))
            if key:
                papers.setdefault(key, set()).add(paper_id)
    return papers


def query_sample(labels: dict[str, set[str]], count: int, seed: int) -> list[str]:
    pool = sorted(k for k, found in labels.items() if MIN_USES <= len(found) <= MAX_USES and words(k))
    return random.Random(seed).sample(pool, min(count, len(pool)))


def misspell(query: str, rng: random.Random, known: set[str]) -> str:
    """``query`` with one edit inside its longest word that makes it a word no paper holds (the other
    words as the index sees them: hyphens and brackets are word breaks there anyway)."""
    tokens = words(query)
    index = max(range(len(tokens)), key=lambda i: len(tokens[i]))
    word = tokens[index]
    for _ in range(100):
        at = rng.randrange(len(word))
        kind = rng.choice(("swap", "drop", "double", "replace"))
        if kind == "swap" and at < len(word) - 1:
            typo = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        elif kind == "drop" and len(word) > 2:
            typo = word[:at] + word[at + 1 :]
        elif kind == "double":
            typo = word[: at + 1] + word[at:]
        else:
            typo = word[:at] + rng.choice(string.ascii_lowercase) + word[at + 1 :]
        if typo not in known:
            return " ".join([*tokens[:index], typo, *tokens[index + 1 :]])
    return query  # no edit of this word makes an unknown word: left as typed


def precision_at(found: Sequence[str], relevant: set[str], k: int = K) -> float:
    return sum(paper_id in relevant for paper_id in found[:k]) / k


def ndcg_at(found: Sequence[str], relevant: set[str], k: int = K) -> float:
    gained = sum(1 / log2(rank + 2) for rank, paper_id in enumerate(found[:k]) if paper_id in relevant)
    ideal = sum(1 / log2(rank + 2) for rank in range(min(k, len(relevant))))
    return gained / ideal if ideal else 0.0


async def score(
    rank: Ranker, queries: Sequence[str], labels: dict[str, set[str]], typed: dict[str, str]
) -> Scores:
    """``typed`` maps each labelled query to the text actually searched for (itself, or with a typo)."""
    precisions, gains, hits, times = [], [], [], []
    for query in queries:
        started = time.perf_counter()
        found = await rank(typed[query])
        times.append((time.perf_counter() - started) * 1000)
        relevant = labels[query]
        precisions.append(precision_at(found, relevant))
        gains.append(ndcg_at(found, relevant))
        hits.append(float(any(paper_id in relevant for paper_id in found[:K])))
    return Scores(
        statistics.fmean(precisions),
        statistics.fmean(gains),
        statistics.fmean(hits),
        statistics.median(times),
    )


async def report(cache: Path, queries: int, seed: int) -> None:
    real = corpus_papers()
    labels = keyword_labels({item.paper.id: item.paper.ai_keywords for item in real})
    sample = query_sample(labels, queries, seed)
    known = {w for item in real for w in words(item.paper.title) + words(item.paper.abstract)}
    rng = random.Random(seed)
    as_typed = {q: q for q in sample}
    with_typo = {q: misspell(q, rng, known) for q in sample}

    database = await Database.open(await corpus_database(cache))
    repos = Repositories.of(database)
    service = PaperService(database, repos.papers)
    await service.start()
    ids = {pk: stored.paper.id for pk, stored in (await repos.papers.by_pks(range(1, len(real) + 1))).items()}

    def engine(search: SearchEngine) -> Ranker:
        async def rank(text: str) -> list[str]:
            return [hit.paper.id for hit in (await search.find(text, limit=K)).hits]

        return rank

    async def variant(**changes: Any) -> Ranker:
        search = SearchEngine(repos.papers, **changes)
        await search.refresh()
        return engine(search)

    async def plain_bm25(text: str) -> list[str]:
        query = parse_search(text)
        if not query:
            return []
        found = await repos.papers.match(to_fts(query, Mode.ALL), limit=K, weights=PLAIN_BM25)
        return [ids[hit.pk] for hit in found]

    before: Weights = (10.0, 1.0, 4.0)
    systems: list[tuple[str, Ranker]] = [
        ("/papers search", engine(service.search)),
        ("  without phrase-first", await variant(phrase_first=False)),
        ("  with title x10", await variant(weights=before)),
        ("  both: the search as it was", await variant(weights=before, phrase_first=False)),
        ("plain BM25", plain_bm25),
    ]
    rows = []
    for name, rank in systems:
        for variant, typed in (("", as_typed), (", one typo", with_typo)):
            rows.append((name + variant, await score(rank, sample, labels, typed)))
    await database.close()

    single = sum(len(words(q)) == 1 for q in sample)
    print(
        f"search quality on {len(real):,} real papers ({sum(bool(i.paper.ai_keywords) for i in real):,} "
        f"with HF keywords, not indexed); {len(sample)} queries (seed {seed}): HF keywords used by "
        f"{MIN_USES}-{MAX_USES} papers ({single} one-word, {len(sample) - single} multi-word); "
        f"relevant = labelled with the query keyword"
    )
    baseline = next(s.precision for name, s in rows if name == "plain BM25") or 1.0
    print(f"  search weights (title, abstract, authors) {SEARCH_WEIGHTS}, before {before}")
    print(f"  {'system':<40} {'P@10':>6} {'nDCG@10':>8} {'any@10':>7} {'vs BM25':>8} {'p50 ms':>7}")
    for name, s in rows:
        print(
            f"  {name:<40} {s.precision:6.3f} {s.ndcg:8.3f} {s.found_any:7.2f} "
            f"{s.precision / baseline:7.2f}x {s.ms_p50:7.1f}"
        )
