"""/follow add and /follow list say how many recent papers a keyword would have matched. Counting
it must not hold the bot's event loop (folding ~2,000 papers' words took 0.2-0.8 s of it per
/follow add while a CLI ingest ran), and must fold only what changed since the last count, while
still seeing every paper another process ingested or changed meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.domain import follows as follow_domain
from bot.domain.models import ListedPaper, Paper, Source
from bot.services import follows as follow_service
from bot.services.follows import FollowService
from bot.services.papers import PaperService
from bot.storage.database import Database
from bot.storage.repositories import Repositories

DAY = date(2026, 11, 2)


def listed(number: int, title: str, day: date = DAY) -> ListedPaper:
    paper = Paper(
        title=title,
        abstract="An abstract about what the title says, long enough to be one.",
        source=Source.HF_API,
        arxiv_id=f"2511.{number:05d}",
    )
    return ListedPaper(paper, day, rank=number + 1)


class FoldingSeen:
    """Records on which thread each paper's words were folded for the count."""

    def __init__(self) -> None:
        self.threads: list[int] = []

    def __call__(self, title: str, abstract: str, keywords: Sequence[str]) -> tuple[str, ...]:
        self.threads.append(threading.get_ident())
        return follow_domain.paper_words(title, abstract, keywords)


async def test_recent_matches_fold_off_the_loop_and_only_what_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.db"
    cli_db, bot_db = await Database.open(path), await Database.open(path)
    try:
        cli = PaperService(cli_db)  # another process: the CLI's ingest
        papers = PaperService(bot_db)
        repos = Repositories.of(bot_db)
        follows = FollowService(bot_db, repos.follows, repos.papers, papers.search)
        await cli.ingest(
            [listed(n, "Diffusion models at scale" if n % 2 else "Graph agents") for n in range(300)]
        )
        folding = FoldingSeen()
        monkeypatch.setattr(follow_service, "paper_words", folding)
        loop_thread = threading.get_ident()

        added = await follows.add(1, None, "diffusion")
        assert added.recent_matches == 150
        assert len(folding.threads) == 300 and loop_thread not in folding.threads

        folding.threads.clear()  # nothing changed: another member's follow folds nothing again
        assert (await follows.add(2, None, "graph agent")).recent_matches == 150
        assert folding.threads == []

        # The CLI ingests a new day (the window moves along) and retitles a stored paper.
        await cli.ingest([listed(300 + n, "Diffusion for video") for n in range(10)])
        await cli.ingest([listed(1, "Graph agents", DAY + timedelta(days=1))])
        await cli.ingest([listed(400 + n, "Video diffusion", DAY + timedelta(days=1)) for n in range(5)])
        shown = {info.keyword: info.recent_matches for info in await follows.list_follows(1)}
        assert shown == {"diffusion": 150 + 10 - 1 + 5}
        assert len(folding.threads) == 10 + 1 + 5 and loop_thread not in folding.threads

        # A week later (a list with nothing matching) the first day falls out of the recent window.
        await cli.ingest([listed(500, "Sparse tokens", DAY + timedelta(days=8))])
        assert (await follows.add(3, None, "video diffusion")).recent_matches == 5
        shown = {info.keyword: info.recent_matches for info in await follows.list_follows(1)}
        assert shown == {"diffusion": 5}
    finally:
        await cli_db.close()
        await bot_db.close()
