"""A running bot follows another process's ingests by reading only the title words they changed:
whatever the sequence of ingests (new papers, retitled papers, words that disappear) and however
many of them land between two checks, its vocabulary ends equal to one built afresh from the store."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.models import ListedPaper, Paper, Source
from bot.domain.text import title_key
from bot.domain.vocabulary import Vocabulary
from bot.services.papers import PaperService
from bot.storage.database import Database
from tests.property_budget import examples

WORDS = ["diffusion", "models", "graph", "agents", "vision", "tokens", "sparse", "Łódź", "Straße"]
TITLES = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)
# A small id pool: later ingests often retitle a stored paper (its old words lose a title).
PAPER = st.tuples(st.integers(min_value=0, max_value=7), TITLES)
INGESTS = st.lists(st.tuples(st.lists(PAPER, min_size=1, max_size=5), st.booleans()), min_size=1, max_size=6)


def listed(number: int, title: str) -> ListedPaper:
    abstract = "An abstract long enough to be one, about the words of its title. " * 2
    paper = Paper(title=title, abstract=abstract, source=Source.HF_API, arxiv_id=f"2501.{number:05d}")
    return ListedPaper(paper)


def counts_in_store(path: Path) -> dict[str, int]:
    """The truth: how many stored titles hold each word."""
    with sqlite3.connect(path) as connection:
        titles = [row[0] for row in connection.execute("SELECT title FROM papers")]
    return dict(Counter(word for title in titles for word in set(title_key(title).split())))


async def follow_ingests(ingests: list[tuple[list[tuple[int, str]], bool]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "store.db"
        cli_db, bot_db = await Database.open(path), await Database.open(path)
        try:
            cli, bot = PaperService(cli_db), PaperService(bot_db)
            await bot.start()
            for papers, bot_checks in ingests:
                await cli.ingest([listed(number, title) for number, title in papers])
                if bot_checks:  # else several ingests land before the bot's next check
                    await bot.refresh_if_changed()
            await bot.refresh_if_changed()
            truth = counts_in_store(path)
            assert bot.search.vocabulary.docs == truth
            rebuilt = Vocabulary(truth)
            for word in ["difusion", "modls", "grap", "agent", "lodz", "strase", "tokns"]:
                assert bot.search.vocabulary.correct(word) == rebuilt.correct(word)
            for prefix in ["d", "di", "mod", "s", "st", "t", "l"]:
                assert bot.search.vocabulary.complete(prefix) == rebuilt.complete(prefix)
        finally:
            await cli_db.close()
            await bot_db.close()


@settings(max_examples=examples(25), deadline=None)
@given(INGESTS)
def test_following_ingests_change_by_change_equals_a_rebuild(
    ingests: list[tuple[list[tuple[int, str]], bool]],
) -> None:
    asyncio.run(follow_ingests(ingests))


async def test_a_check_reads_only_the_words_that_changed(tmp_path: Path) -> None:
    """After another process's ingest, the bot reads the new titles' words, not the whole vocabulary."""
    path = tmp_path / "store.db"
    cli_db, bot_db = await Database.open(path), await Database.open(path)
    try:
        cli, bot = PaperService(cli_db), PaperService(bot_db)
        await cli.ingest([listed(n, f"{word} {n}") for n, word in enumerate(WORDS)])
        await bot.start()
        read: list[dict[str, int]] = []
        real = bot.repository.title_terms_since

        async def spying(loaded: int, current: int) -> dict[str, int]:
            read.append(await real(loaded, current))
            return read[-1]

        bot.repository.title_terms_since = spying  # type: ignore[method-assign]
        await cli.ingest([listed(99, "Sparse tokens everywhere")])
        assert await bot.refresh_if_changed()
        assert read == [{"sparse": 2, "tokens": 2, "everywhere": 1}]
        assert bot.search.vocabulary.complete("every") == ["everywhere"]
        assert not await bot.refresh_if_changed()  # nothing new: nothing read
        assert len(read) == 1
    finally:
        await cli_db.close()
        await bot_db.close()
