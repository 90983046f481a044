"""``paperbot ingest`` into PostgreSQL: a big load into an empty store (a community moving its
history in) takes the cold-load path, one transaction whose full-text indexes are built once at the
end (bot.storage.pg_bulk), instead of batches that add their papers to the indexes one by one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from typer.testing import CliRunner

import bot.services.papers as papers_service
from bench.corpus import generate
from bot.cli import app
from bot.storage import pg_bulk
from tests.backends import postgres_server
from tests.postgres_server import PostgresServer

__all__ = ["postgres_server"]
runner = CliRunner()
# The oid of each full-text (GIN) index: a new one when the index was built again.
SEARCH_INDEXES = (
    "SELECT c.relname, c.oid::bigint FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
    "JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'gin' ORDER BY 1"
)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = asyncio.run(postgres_server.fresh_database())
    monkeypatch.setenv("PAPERBOT_DATABASE_URL", url)
    yield url
    asyncio.run(postgres_server.release(url))


def _fetch(url: str, sql: str) -> list[tuple[object, ...]]:
    async def fetch() -> list[tuple[object, ...]]:
        connection = await asyncpg.connect(url)
        try:
            return [tuple(row) for row in await connection.fetch(sql)]
        finally:
            await connection.close()

    return asyncio.run(fetch())


def history_file(folder: Path, papers: int) -> Path:
    """A Hugging Face API file of ``papers`` papers over several list days (ten a day)."""
    items = [
        {
            "paper": {
                "id": listed.paper.arxiv_id,
                "title": listed.paper.title,
                "summary": listed.paper.abstract,
                "authors": [{"name": name} for name in listed.paper.authors],
                "upvotes": listed.paper.upvotes,
                "submittedOnDailyAt": f"{listed.list_date.isoformat()}T00:00:00.000Z",
            },
        }
        for listed in generate(papers, per_day=10)
    ]
    path = folder / "history.json"
    path.write_text(json.dumps(items))
    return path


def test_a_big_ingest_into_an_empty_store_builds_the_search_indexes_once(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # 60 papers over six days stand for a big history: a cold load from 50 papers, batches of 20
    # (real: 10,000 and 2,000), so batch by batch none would be a cold load.
    monkeypatch.setattr(pg_bulk, "COLD_LOAD_PAPERS", 50)
    monkeypatch.setattr(papers_service, "COMMIT_PAPERS", 20)
    history = str(history_file(tmp_path, 60))
    before = _fetch(postgres_url, SEARCH_INDEXES)
    assert [name for name, _ in before] == ["papers_search", "title_search_words"]

    result = runner.invoke(app, ["ingest", history])
    assert (result.exit_code, result.output) == (0, "60 new, 0 updated, 0 unchanged\n")
    rebuilt = _fetch(postgres_url, SEARCH_INDEXES)
    assert [name for name, _ in rebuilt] == [name for name, _ in before]
    assert all(new != old for (_, new), (_, old) in zip(rebuilt, before, strict=True))
    valid = "SELECT bool_and(indisvalid AND indisready) FROM pg_index"
    assert _fetch(postgres_url, valid) == [(True,)]

    # The rebuilt index answers searches for the loaded papers.
    title = _fetch(postgres_url, "SELECT title FROM papers ORDER BY pk DESC LIMIT 1")[0][0]
    result = runner.invoke(app, ["search", str(title), "--json"])
    assert result.exit_code == 0 and json.loads(result.output)[0]["title"] == title

    # Into a store that holds papers the ingest goes in batches and keeps the indexes it has.
    result = runner.invoke(app, ["ingest", history])
    assert (result.exit_code, result.output) == (0, "0 new, 0 updated, 60 unchanged\n")
    assert _fetch(postgres_url, SEARCH_INDEXES) == rebuilt
