"""One folding for the index and for queries: a stored title word is found by that word and by the
variants people type (case, accents, ß/ss, Turkish dotted and dotless i, ligatures, full width)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.domain.models import ListedPaper, Paper, Source
from bot.services.papers import PaperService
from bot.storage.database import Database, bundled_migrations

ABSTRACT = "An abstract long enough to be an abstract, about nothing in particular at all. " * 3

FOLDING = [
    ("Straße Networks", ["Straße", "straße", "strasse", "STRASSE", "Strasse"]),
    ("Große Sprachmodelle", ["Große", "grosse", "GROSSE", "GROẞE"]),
    ("İstanbul Benchmark", ["İstanbul", "istanbul", "ISTANBUL", "Istanbul"]),
    ("Kırmızı Dataset", ["Kırmızı", "kırmızı", "kirmizi", "KIRMIZI"]),
    ("Eﬃcient ﬁne-tuning", ["efficient", "Efficient", "ﬁne", "fine", "FINE"]),
    ("Ｆｕｌｌ Ｗｉｄｔｈ Models", ["full", "FULL", "Ｆｕｌｌ", "width", "ｗｉｄｔｈ"]),
    ("Café Résumé Naïve Señor", ["cafe", "café", "CAFÉ", "resume", "résumé", "naive", "naïve", "senor"]),
    ("Ørsted Æther Łódź Œuvre", ["orsted", "ørsted", "ØRSTED", "aether", "æther", "lodz", "łódź", "oeuvre"]),
]  # fmt: skip
CASES = [(title, query) for title, queries in FOLDING for query in queries]


@pytest.fixture
async def folded(service: PaperService) -> PaperService:
    papers = [
        ListedPaper(Paper(title=title, abstract=ABSTRACT, source=Source.HF_API, arxiv_id=f"2501.0000{n}"))
        for n, (title, _) in enumerate(FOLDING)
    ]
    await service.ingest(papers)
    return service


@pytest.mark.parametrize(("title", "query"), CASES)
async def test_a_stored_title_word_is_found_by_its_variants(
    folded: PaperService, title: str, query: str
) -> None:
    results = await folded.search.find(query)
    assert [hit.paper.title for hit in results.hits] == [title]
    assert results.correction is None  # found as typed, not through spelling correction
    suggestions = await folded.search.suggest(query)
    assert suggestions and suggestions[0].title == title


async def test_an_index_built_before_the_folding_is_rebuilt_by_the_migration(tmp_path: Path) -> None:
    """A store written by the previous schema (raw text in an external-content index)."""
    path = tmp_path / "old.db"
    old = await Database.open(path, migrations=bundled_migrations()[:6])
    async with old.transaction() as connection:
        await connection.execute(
            "INSERT INTO papers (id, arxiv_id, title_key, title, abstract, source, content_hash, created_at, "
            "updated_at) VALUES ('t-old', NULL, 'kırmızı straße', 'Kırmızı Straße', ?, 'hf-page', 'x', "
            "'2026-01-01', '2026-01-01')",
            (ABSTRACT,),
        )
        await connection.execute(
            "INSERT INTO papers_fts (rowid, title, abstract, authors) "
            "SELECT pk, title, abstract, authors FROM papers"
        )
        await connection.execute("INSERT INTO titles_fts (rowid, title) SELECT pk, title FROM papers")
        await connection.execute("INSERT INTO title_terms VALUES ('kırmızı', 1), ('straße', 1)")
    await old.close()

    database = await Database.open(path)
    service = PaperService(database)
    await service.start()
    try:
        for query in ("strasse", "Straße", "kirmizi", "KIRMIZI"):
            assert [h.paper.title for h in await service.search.search(query)] == ["Kırmızı Straße"]
        # The title key now folds ı, so the same page paper arriving again is the same row.
        again = Paper(title="Kırmızı Straße", abstract=ABSTRACT, source=Source.HF_PAGE)
        counts = await service.ingest([ListedPaper(again, date(2026, 1, 2), 1)])
        assert (counts.new, await service.repository.count()) == (0, 1)
        assert set(await service.repository.title_terms()) == {"kirmizi", "strasse"}
    finally:
        await database.close()
