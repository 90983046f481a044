"""Searches and suggestions asked again are answered from memory, and never outlive the papers
they were computed from: another process's ingest, once the bot notices it, brings new papers into
the very same search; an answer computed while an ingest landed is not kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.models import ListedPaper, Paper, Source
from bot.services.answer_cache import AnswerCache
from bot.services.container import open_services
from bot.services.papers import PaperService
from bot.settings import Settings
from bot.storage.database import Database


def listed(number: int, title: str) -> ListedPaper:
    abstract = f"An abstract long enough to be one, about {title.lower()} and nothing else. " * 2
    paper = Paper(title=title, abstract=abstract, source=Source.HF_API, arxiv_id=f"2501.{number:05d}")
    return ListedPaper(paper)


async def test_a_repeated_search_is_answered_without_asking_the_store(
    loaded_service: PaperService, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await loaded_service.search.find("federated learning")
    suggested = await loaded_service.search.suggest("federated lea")
    assert first.hits and suggested

    async def unreachable(*args: object, **kwargs: object) -> object:
        raise AssertionError("the store was asked again")

    for name in ("window", "match", "by_pks", "match_titles", "titles", "count_matches"):
        monkeypatch.setattr(loaded_service.repository, name, unreachable)
    assert await loaded_service.search.find("  Federated   LEARNING ") == first  # the same words
    assert await loaded_service.search.suggest("federated lea") == suggested


async def test_another_processs_ingest_reaches_a_search_asked_before_it(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    cli_db, bot_db = await Database.open(path), await Database.open(path)
    try:
        cli, bot = PaperService(cli_db), PaperService(bot_db)
        await cli.ingest([listed(1, "Quantum Zebra Crossings")])
        await bot.start()
        before = await bot.search.find("zebra")
        assert [hit.paper.title for hit in before.hits] == ["Quantum Zebra Crossings"]
        assert [s.title for s in await bot.search.suggest("zebra")] == ["Quantum Zebra Crossings"]
        await cli.ingest([listed(2, "Zebra Stripes in Vision Transformers")])
        assert await bot.search.find("zebra") == before  # not noticed yet: the answer it gave
        assert await bot.refresh_if_changed()
        after = await bot.search.find("zebra")
        assert {hit.paper.title for hit in after.hits} == {
            "Quantum Zebra Crossings",
            "Zebra Stripes in Vision Transformers",
        }
        assert len(await bot.search.suggest("zebra")) == 2
    finally:
        await cli_db.close()
        await bot_db.close()


def test_an_answer_computed_while_the_papers_changed_is_not_kept() -> None:
    cache: AnswerCache[str, int] = AnswerCache(2)
    since = cache.epoch
    cache.clear()  # an ingest was noticed while the answer was being computed
    cache.put("zebra", 1, since=since)
    assert cache.get("zebra") is None
    cache.put("zebra", 2, since=cache.epoch)
    assert cache.get("zebra") == 2


def test_the_least_recently_asked_answer_goes_first() -> None:
    cache: AnswerCache[str, int] = AnswerCache(2)
    for key, value in (("a", 1), ("b", 2)):
        cache.put(key, value, since=cache.epoch)
    assert cache.get("a") == 1  # "b" is now the least recently asked
    cache.put("c", 3, since=cache.epoch)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


async def test_search_answer_cache_zero_asks_the_store_every_time(tmp_path: Path) -> None:
    """`[search] answer_cache = 0`: an operator (or `bench load --answer-cache 0`) has every answer
    computed afresh, so a figure shows the work, not the memory."""
    settings = Settings(db=tmp_path / "bot.db", search={"answer_cache": 0}, digest={"scheduler": False})
    async with open_services(settings, warm=False) as services:
        await services.papers.ingest([listed(1, "Quantum Zebra Crossings")])
        asked = 0
        real = services.papers.repository.match

        async def counting(*args: object, **kwargs: object) -> object:
            nonlocal asked
            asked += 1
            return await real(*args, **kwargs)  # type: ignore[arg-type]

        services.papers.repository.match = counting  # type: ignore[method-assign]
        first = await services.papers.search.find("zebra")
        assert await services.papers.search.find("zebra") == first and first.hits
        assert asked == 2


def test_answers_stay_within_the_byte_budget_least_recently_asked_out_first() -> None:
    cache: AnswerCache[str, bytes] = AnswerCache(100, budget_bytes=3000, weigh=len)
    for name in "abc":
        cache.put(name, b"x" * 1000, since=cache.epoch)
    assert cache.get("a") is not None  # asked again: now the most recent
    cache.put("d", b"x" * 1500, since=cache.epoch)
    assert cache.bytes <= 3000
    assert [name for name in "abcd" if cache.get(name) is not None] == ["a", "d"]
    cache.put("huge", b"x" * 3001, since=cache.epoch)  # larger than the budget: not kept, nothing lost
    assert cache.get("huge") is None and cache.get("a") is not None
    cache.put("a", b"x" * 10, since=cache.epoch)  # replaced, not counted twice
    assert cache.bytes == 1510


async def test_kept_search_results_are_weighed_within_their_budget(loaded_service: PaperService) -> None:
    from bot.services.search import RESULTS_BUDGET_BYTES, results_weight

    search = loaded_service.search
    results = await search.find("federated learning")
    assert results.hits and results_weight(results) > sum(len(hit.paper.abstract) for hit in results.hits)
    assert search._results.bytes == results_weight(results) <= RESULTS_BUDGET_BYTES
