"""Chinese and Japanese write without spaces: a word inside a longer run of Han or kana is found
by search and by title suggestions, on both backends, and a store indexed before each character
became a word of its own (migration 0021) finds it after the upgrade."""

from __future__ import annotations

import pytest

from bot.domain.models import ListedPaper, Paper, Source
from bot.domain.text import title_key
from bot.services.papers import PaperService
from bot.storage.database import bundled_migrations
from bot.storage.pg_search import folded_columns
from tests.backends import Opener

TITLE = "扩散模型的研究 Diffusion 日本語の論文"
ABSTRACT = "We study 拡散モデル for images and text. An abstract long enough to be one, about diffusion."
OTHER = "大規模言語モデル Large Language Models"
OTHER_ABSTRACT = "An abstract about large language models and nothing else in particular at all."
FOUND = ["扩散", "日本語", "模型", "研究", "論文", "的研", "扩散模型的研究", "拡散", "diffusion"]


def papers() -> list[ListedPaper]:
    return [
        ListedPaper(Paper(title=TITLE, abstract=ABSTRACT, source=Source.HF_API, arxiv_id="2501.00001")),
        ListedPaper(Paper(title=OTHER, abstract=OTHER_ABSTRACT, source=Source.HF_API, arxiv_id="2501.00002")),
    ]


@pytest.mark.parametrize("query", FOUND)
async def test_a_han_or_kana_word_inside_a_longer_run_is_found(service: PaperService, query: str) -> None:
    await service.ingest(papers())
    results = await service.search.find(query)
    assert [hit.paper.title for hit in results.hits] == [TITLE]
    assert results.correction is None and not results.some_words


async def test_the_characters_must_stand_side_by_side_as_typed(service: PaperService) -> None:
    await service.ingest(papers())
    # Both papers hold 模 (模型, 規模) and only one "模型"; "型模", its characters reversed, is no word.
    assert {h.paper.title for h in await service.search.search("模")} == {TITLE, OTHER}
    assert [h.paper.title for h in await service.search.search("模型")] == [TITLE]
    assert [h.paper.title for h in await service.search.search("型模")] == []
    # A Japanese word shared by both papers finds both.
    assert {h.paper.title for h in await service.search.search("モデル")} == {TITLE, OTHER}


@pytest.mark.parametrize("typed", ["扩散", "日本語", "論文"])
async def test_a_han_or_kana_word_suggests_its_title(service: PaperService, typed: str) -> None:
    await service.ingest(papers())
    suggestions = await service.search.suggest(typed)
    assert suggestions and suggestions[0].title == TITLE


def _runs_kept_whole(text: str) -> str:
    """What the index was given before migration 0021: the folded words, Han and kana runs whole
    (title keys still fold that way)."""
    return title_key(text)


async def _version_19_store(open_store: Opener, backend: str) -> list[Paper]:
    """Two papers as paperbot at migration 19 indexed them, with their title words counted."""
    stored = [p.paper for p in papers()]
    old = await open_store(migrations=bundled_migrations(backend)[:19])
    async with old.transaction() as connection:
        for pk, paper in enumerate(stored, start=1):
            await connection.execute(
                "INSERT INTO papers (pk, id, arxiv_id, title_key, title, abstract, authors, source, "
                "content_hash, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, '[]', 'hf-api', 'x', '2026-01-01', '2026-01-01')",
                (pk, paper.id, paper.arxiv_id, paper.title_key, paper.title, paper.abstract),
            )
            old_text = (_runs_kept_whole(paper.title), _runs_kept_whole(paper.abstract), "")
            if backend == "postgres":
                await connection.execute(
                    "UPDATE papers SET search = paperbot_document(?, ?, ?) WHERE pk = ?", (*old_text, pk)
                )
            else:
                await connection.execute(
                    "INSERT INTO papers_fts (rowid, title, abstract, authors) VALUES (?, ?, ?, ?)",
                    (pk, *old_text),
                )
                await connection.execute(
                    "INSERT INTO titles_fts (rowid, title) VALUES (?, ?)", (pk, old_text[0])
                )
        counts: dict[str, int] = {}
        for paper in stored:
            for term in set(paper.title_key.split()):
                counts[term] = counts.get(term, 0) + 1
        await connection.executemany(
            "INSERT INTO title_terms (term, docs) VALUES (?, ?)", list(counts.items())
        )
    await old.close()
    return stored


async def test_an_upgraded_store_finds_a_word_inside_a_run(store_at: tuple[Opener, str]) -> None:
    open_store, backend = store_at
    stored = await _version_19_store(open_store, backend)
    database = await open_store()
    try:
        service = PaperService(database)
        await service.start()
        for query in FOUND:
            assert [h.paper.title for h in await service.search.search(query)] == [TITLE], query
        assert (await service.search.suggest("日本語"))[0].title == TITLE
        vocabulary = await service.repository.title_terms()
        assert "扩散模型的研究" not in vocabulary and vocabulary["模"] == 2 and vocabulary["diffusion"] == 1
        if backend == "postgres":
            # Each rebuilt search column is exactly what paperbot builds for the paper today.
            for pk, paper in enumerate(stored, start=1):
                async with database.connection.execute(
                    "SELECT search = paperbot_document(?, ?, ?) FROM papers WHERE pk = ?",
                    (*folded_columns(paper), pk),
                ) as cursor:
                    row = await cursor.fetchone()
                assert row is not None and row[0] is True, paper.title
        # Title keys (and the ids derived from them) are unchanged: the same paper arriving again
        # updates its row.
        counts = await service.ingest(papers())
        assert (counts.new, await service.repository.count()) == (0, 2)
    finally:
        await database.close()
