"""Figures for "more like this": quality on real papers with known topics, latency at scale.

Quality: the real HF Daily Papers corpus (../shared/corpus/hf-daily-papers). Topic labels are HF's
``ai_keywords``, folded, keeping those held by 2 to ``MAX_LABEL_PAPERS`` papers (a keyword on
thousands of papers, like "large language models", names a field, not a topic). A result is relevant
when it shares a label with the query paper. Precision@5 is compared against five random papers and
against plain BM25 over the query paper's title words (every word, OR, default FTS5 ranking).
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path

from bench import page_cache
from bench.cache import merge_as_the_bot_does
from bot.domain.models import ListedPaper, Paper, Source
from bot.domain.query import quote
from bot.domain.text import clean_line, fold, words
from bot.services.papers import PaperService
from bot.services.similar import SimilarPapers
from bot.storage.database import Database
from bot.storage.index_warmup import warm_indexes
from bot.storage.repositories import Repositories

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "hf-daily-papers"
FALLBACK_CORPUS = Path("/work/shared/corpus/hf-daily-papers")
MAX_LABEL_PAPERS = 300


def corpus_file() -> Path:
    for folder in (CORPUS, FALLBACK_CORPUS):
        if (folder / "hf_daily_papers.jsonl").exists():
            return folder / "hf_daily_papers.jsonl"
    raise SystemExit("the HF Daily Papers corpus is not there (../shared/corpus/hf-daily-papers)")


def corpus_papers() -> list[ListedPaper]:
    out = []
    with corpus_file().open(encoding="utf-8") as lines:
        for line in lines:
            r = json.loads(line)
            day = date.fromisoformat(r["date"])
            paper = Paper(
                title=r["title"],
                abstract=r["abstract"],
                source=Source.HF_API,
                arxiv_id=r["id"],
                authors=tuple(r["authors"]),
                published=day,
                ai_keywords=tuple(r["keywords"]),
            )
            out.append(ListedPaper(paper, day, 1))
    return out


async def corpus_database(cache: Path, copies: int = 1) -> Path:
    """The real corpus in a database (``copies`` > 1: repeated, each copy its own papers, so word
    statistics scale like a store that size). The folder exists: the command made it."""
    path = cache / ("hf-corpus.db" if copies == 1 else f"hf-corpus-x{copies}.db")
    if not path.exists():
        database = await Database.open(path)
        service = PaperService(database)
        real = corpus_papers()
        for copy in range(copies):
            if copy == 0:
                await service.ingest(real)
                continue
            await service.ingest(
                [
                    ListedPaper(
                        replace(
                            item.paper, title=f"{item.paper.title} [{copy}]", arxiv_id=f"29{copy:02d}.{n:05d}"
                        ),
                        item.list_date,
                        item.rank,
                    )
                    for n, item in enumerate(real)
                ]
            )
        await database.close()
    await merge_as_the_bot_does(path)  # the store a running bot serves after its background merge
    return path


def topic_labels(papers: list[Paper]) -> dict[str, set[str]]:
    """Paper id -> its folded HF keywords held by 2..MAX_LABEL_PAPERS papers."""
    folded = {p.id: {clean_line(fold(k)) for k in p.ai_keywords} for p in papers}
    usage = Counter(k for keys in folded.values() for k in keys)
    return {pid: {k for k in keys if 2 <= usage[k] <= MAX_LABEL_PAPERS} for pid, keys in folded.items()}


def precision(found: list[str], labels: dict[str, set[str]], query: str, k: int = 5) -> float:
    wanted = labels[query]
    return sum(bool(labels.get(pid, set()) & wanted) for pid in found[:k]) / k


async def _loop_lag(stop: asyncio.Event) -> float:
    """The longest the event loop was held while ``stop`` is unset (ms): how long a heartbeat could wait."""
    worst = 0.0
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.001)
        worst = max(worst, (time.perf_counter() - started) * 1000 - 1)
    return worst


async def quality(cache: Path, queries: int = 500, seed: int = 5) -> None:
    database = await Database.open(await corpus_database(cache))
    repos = Repositories.of(database)
    service = PaperService(database, repos.papers)
    await service.start()
    similar = SimilarPapers(repos.papers, repos.terms, title_docs=lambda: service.search.vocabulary.docs)
    stored = await repos.papers.by_pks(range(1, await repos.papers.count() + 1))
    papers = [s.paper for s in stored.values()]
    labels = topic_labels(papers)
    ids = [p.id for p in papers]
    pk_of = {s.paper.id: pk for pk, s in stored.items()}
    rng = random.Random(seed)
    sample = rng.sample([p for p in papers if labels[p.id]], queries)
    scores: dict[str, list[float]] = {"similar": [], "random": [], "bm25-title": []}
    for paper in sample:
        hits = await similar.similar(paper, limit=5)
        scores["similar"].append(precision([h.paper.id for h in hits], labels, paper.id))
        others: list[str] = []
        while len(others) < 5:
            pick = rng.choice(ids)
            if pick != paper.id and pick not in others:
                others.append(pick)
        scores["random"].append(precision(others, labels, paper.id))
        title_query = " OR ".join(quote(w) for w in dict.fromkeys(words(paper.title)))
        exclude = [pk_of[paper.id]]
        ranked = await repos.terms.ranked(title_query, limit=5, exclude=exclude) if title_query else []
        found = await repos.papers.by_pks(pk for pk, _ in ranked)
        scores["bm25-title"].append(precision([found[pk].paper.id for pk, _ in ranked], labels, paper.id))
    await database.close()
    labelled = sum(bool(v) for v in labels.values())
    print(
        f"similar quality on {len(papers):,} real papers ({labelled:,} with topic labels), "
        f"{queries} query papers, P@5 of a shared HF keyword (used by 2-{MAX_LABEL_PAPERS} papers):"
    )
    for name, values in scores.items():
        print(f"  {name:<11} P@5 {statistics.fmean(values):.3f}")


def _disk_read() -> int:
    """Bytes this process has had read from storage (not from the page cache), all threads."""
    with open("/proc/self/io", encoding="ascii") as io:
        for line in io:
            if line.startswith("read_bytes:"):
                return int(line.split()[1])
    return 0


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def _round(
    similar: SimilarPapers, papers: list[Paper], label: str, before_each: Callable[[], None] | None = None
) -> None:
    """One call for each paper; ``before_each`` (outside the timing) puts the store in a state first."""
    stop = asyncio.Event()
    lag = asyncio.create_task(_loop_lag(stop))
    times, cpu, read = [], [], []
    for paper in papers:
        if before_each is not None:
            before_each()
        started, used, disk = time.perf_counter(), time.process_time(), _disk_read()
        await similar.similar(paper, limit=8)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)  # every thread of the process: SQLite's too
        read.append((_disk_read() - disk) / 1024)
    stop.set()
    worst_lag = await lag
    # CPU's p99 beside the wall clock's: a wall p99 far above it is waiting (pages read from disk,
    # a busy machine), not work a call does; the bytes read from disk say which of the two.
    print(
        f"  {label}: wall p50 {statistics.median(times):.1f} / p99 {_p99(times):.1f} / "
        f"max {max(times):.1f} ms; "
        f"CPU p50 {statistics.median(cpu):.1f} / p99 {_p99(cpu):.1f} ms (all threads); "
        f"read from disk {statistics.fmean(read):,.0f} KiB a call (mean), max {max(read):,.0f} KiB; "
        f"event loop held at most {worst_lag:.1f} ms; {len(times)} papers"
    )


@asynccontextmanager
async def _similar_service(path: Path) -> AsyncIterator[tuple[SimilarPapers, Repositories]]:
    """The store opened and "similar" started as the bot does (title vocabulary loaded)."""
    database = await Database.open(path)
    try:
        repos = Repositories.of(database)
        service = PaperService(database, repos.papers)
        await service.start()
        yield (
            SimilarPapers(repos.papers, repos.terms, title_docs=lambda: service.search.vocabulary.docs),
            repos,
        )
    finally:
        await database.close()


async def latency(cache: Path, copies: int, queries: int = 300) -> None:
    """Five rounds of ``queries`` distinct papers each; the page cache's state is set and printed
    before each, since it decides a first call's wall time (the disk's, or memory's)."""
    path = await corpus_database(cache, copies)
    rng = random.Random(3)
    async with _similar_service(path) as (_, repos):
        n = await repos.papers.count()
        rounds = [[rng.randint(1, n) for _ in range(queries)] for _ in range(5)]
        stored = await repos.papers.by_pks(pk for pks in rounds for pk in pks)
    cached, counted, dropped, after_warmup, each = (
        [stored[pk].paper for pk in pks if pk in stored] for pks in rounds
    )
    print(f"similar over the real corpus x{copies}: {n:,} papers, limit 8, {queries} distinct papers a round")

    page_cache.load(path)
    print(f"store loaded into the OS page cache: {page_cache.residency(path).describe()}")
    async with _similar_service(path) as (similar, _):
        # As a running bot whose store fits in RAM: no document count or chosen term cached yet.
        await _round(similar, cached, "first call for a paper, store in the page cache")
        # The same service: the counts the first round read stay cached, as in a bot that has
        # answered a while.
        await _round(similar, counted, "first call for a paper, counts of the round above cached")

    # A bot started on a store the OS has not read since (after a reboot, or other files read).
    page_cache.drop(path)
    print(f"store dropped from the OS page cache: {page_cache.residency(path).describe()}")
    async with _similar_service(path) as (similar, _):
        # With `search.warm_indexes = false`, or in the seconds before the warm-up below is done:
        # every page a call needs comes from the disk the first time.
        await _round(similar, dropped, "first call for a paper, store dropped before the start, no warm-up")
    page_cache.drop(path)
    print(f"store dropped from the OS page cache: {page_cache.residency(path).describe()}")
    async with _similar_service(path) as (similar, _):
        warmed = await warm_indexes(str(path))  # what the bot runs beside serving after start-up
        print(f"  start-up warm-up: {warmed.describe()}; {page_cache.residency(path).describe()}")
        await _round(
            similar, after_warmup, "first call for a paper, store dropped before the start, after the warm-up"
        )
        # A running bot whose store other files keep pushing out: the OS cache holds none of it at
        # each call, SQLite's own page cache (8 MiB a reader) keeps what the calls above read.
        await _round(
            similar,
            each,
            "first call for a paper, store dropped from the page cache before every call",
            before_each=lambda: page_cache.drop(path),
        )
