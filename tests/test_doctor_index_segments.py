"""`paperbot doctor` says how many segments each full-text index holds, and warns when the running
bot has merging to do (until then a search reads each word once per segment)."""

from __future__ import annotations

from pathlib import Path

from bench.corpus import generate
from bot.doctor import Check, run_checks
from bot.services.container import open_services
from bot.settings import Settings
from bot.storage.database import Database
from bot.storage.index_merge import merge_indexes


def _index_check(checks: list[Check]) -> Check:
    return next(check for check in checks if check.name == "search index")


async def test_doctor_shows_the_segments_and_warns_until_the_bot_merged_them(tmp_path: Path) -> None:
    settings = Settings(
        db=tmp_path / "bot.db",
        search={"merge_above_segments": 1},
        sources={"hf_api_url": "http://127.0.0.1:9/daily_papers"},  # never the internet
    )
    papers = list(generate(60, seed=4))
    async with open_services(settings, warm=False) as services:
        for start in range(0, len(papers), 20):  # three commits: three segments
            await services.papers.ingest(papers[start : start + 20])

    waiting = _index_check(await run_checks(settings, wait=0.1))
    assert waiting.status == "warn"
    assert "papers_fts 3" in waiting.detail and "the running bot merges an index above 1" in waiting.detail

    async with open_services(settings, warm=False) as services:
        assert isinstance(services.database, Database)
        await merge_indexes(services.database, above=1)

    merged = _index_check(await run_checks(settings, wait=0.1))
    assert merged.status == "ok" and merged.detail == "segments: papers_fts 1, titles_fts 1"
