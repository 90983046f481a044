"""The per-word document counts "more like this" weighs a paper's words by (``term_docs``): kept by
the ingest as papers arrive and change, and counted for the papers a store already held when it is
upgraded, the same on both backends. A wrong count picks the wrong words, and the papers offered as
similar change."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

import bot.storage.pg_document as pg_document
from bot.domain.models import ListedPaper, Paper, Source
from bot.domain.text import words
from bot.services.papers import PaperService
from bot.storage.connection import Store
from bot.storage.database import bundled_migrations
from bot.storage.pg_search import word_tally
from bot.storage.repositories import Repositories
from tests.backends import Opener

PAPERS = [
    Paper(
        title="Sparse Mixture-of-Experts Routing",
        abstract="Routing tokens to experts; load balancing (v2.1) at scale.",
        source=Source.HF_API,
        arxiv_id="2501.00001",
    ),
    Paper(
        title="Réseaux Épars: Routing Sans Supervision",
        abstract="Straße naïve ﬁne-tuning of experts, ZERO-shot.",
        source=Source.HF_API,
        arxiv_id="2501.00002",
    ),
    Paper(
        title="扩散模型的研究 for Video",
        abstract="We study diffusion (扩散) models for video generation at scale.",
        source=Source.HF_API,
        arxiv_id="2501.00003",
    ),
    Paper(
        title="Kırmızı Elma: Tokens_and_Experts",
        abstract="",
        source=Source.HF_API,
        arxiv_id="2501.00004",
    ),
]


def _expected(papers: list[Paper]) -> dict[str, int]:
    """Per word, the papers holding it in title or abstract, counted the plain way."""
    counts: Counter[str] = Counter()
    for paper in papers:
        counts.update(set(words(paper.title)) | set(words(paper.abstract)))
    return dict(counts)


async def _stored_counts(store: Store) -> dict[str, int]:
    async with store.connection.execute("SELECT term, docs FROM term_docs WHERE docs > 0") as cursor:
        return {str(row[0]): int(row[1]) for row in await cursor.fetchall()}


async def test_counts_follow_papers_as_they_arrive_and_change(database: Store) -> None:
    service = PaperService(database)
    await service.ingest([ListedPaper(p) for p in PAPERS[:2]])
    await service.ingest([ListedPaper(p) for p in PAPERS[2:]])
    assert await _stored_counts(database) == _expected(PAPERS)

    # A revised abstract and a corrected title: the words they lost and gained are counted anew.
    revised = [
        replace(PAPERS[0], abstract="Routing tokens to specialists, with load balancing."),
        replace(PAPERS[3], title="Kırmızı Elma: Tokens and Specialists", arxiv_version=2),
    ]
    await service.ingest([ListedPaper(p) for p in revised])
    now = [revised[0], PAPERS[1], PAPERS[2], revised[1]]
    assert await _stored_counts(database) == _expected(now)
    repos = Repositories.of(database)
    assert await repos.terms.doc_counts(["routing", "experts", "specialists", "nowhere"], cap=10) == {
        "routing": 2,
        "experts": 2,
        "specialists": 2,
    }
    assert (await repos.terms.doc_counts(["routing"], cap=1))["routing"] == 1


async def test_without_the_compiled_vector_builder_the_counts_are_the_same(
    database: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL the compiled builder counts the words as it builds the vectors; without it
    # they are counted as SQLite's ingest counts them (bot.storage.word_counts).
    monkeypatch.setattr(pg_document, "block_vectors", None)
    assert word_tally() is None
    await PaperService(database).ingest([ListedPaper(p) for p in PAPERS])
    assert await _stored_counts(database) == _expected(PAPERS)


async def test_an_upgraded_store_counts_the_papers_it_already_held(store_at: tuple[Opener, str]) -> None:
    open_store, backend = store_at
    # As a paperbot from before the counts left the store: the papers, no counts, the version before
    # (built up to the counts' migration only: later migrations run at the upgrade).
    before = next(m.number for m in bundled_migrations(backend) if "_term_docs." in m.name) - 1
    store = await open_store(migrations=bundled_migrations(backend)[: before + 1])
    await PaperService(store).ingest([ListedPaper(p) for p in PAPERS])
    async with store.transaction() as connection:
        await connection.execute("DROP TABLE term_docs")
        if backend == "sqlite":
            await connection.execute(f"PRAGMA user_version = {before}")
        else:
            await connection.execute(f"UPDATE paperbot_schema SET version = {before}")
    await store.close()

    upgraded = await open_store()
    try:
        assert await upgraded.schema_version() == len(bundled_migrations(backend))
        assert await _stored_counts(upgraded) == _expected(PAPERS)
    finally:
        await upgraded.close()
