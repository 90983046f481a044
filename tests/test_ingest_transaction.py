"""`paperbot ingest a b c` is one transaction, and text JSON cannot store (lone surrogates) is repaired."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot import services
from bot.cli import app
from bot.storage.papers import PaperRepository

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


def api_file(tmp_path: Path, name: str, arxiv_id: str, **paper: object) -> Path:
    item = {
        "paper": {"id": arxiv_id, "title": f"Paper {arxiv_id}", "summary": "An abstract.", **paper},
        "publishedAt": "2024-07-31T00:00:00.000Z",
    }
    path = tmp_path / name
    # json.dumps writes a lone surrogate as the escape "\ud800", exactly as a hostile source would.
    path.write_text(json.dumps([item]), encoding="utf-8")
    return path


def stored_titles(db: Path) -> list[str]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as connection:
        return sorted(row[0] for row in connection.execute("SELECT title FROM papers"))


@pytest.mark.parametrize("failing_part", [1, 2, 3])
def test_a_store_failure_in_any_file_stores_none_of_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_part: int
) -> None:
    files = [api_file(tmp_path, f"f{n}.json", f"2510.0000{n}") for n in (1, 2, 3)]
    monkeypatch.setattr(services.papers, "BATCH_SIZE", 1)  # one paper, one part
    real_upsert = PaperRepository.upsert
    calls = 0

    async def failing_upsert(self: PaperRepository, *args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == failing_part:
            raise sqlite3.IntegrityError("simulated failure while storing")
        return await real_upsert(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(PaperRepository, "upsert", failing_upsert)
    db = tmp_path / "x.db"
    result = runner.invoke(app, ["ingest", *map(str, files), "--db", str(db)])
    assert result.exit_code != 0
    assert stored_titles(db) == []


@pytest.mark.parametrize(
    "field", ["title", "summary", "authors", "ai_summary", "ai_keywords", "githubRepo", "projectPage"]
)
def test_a_lone_surrogate_in_any_text_field_is_stored_repaired_with_the_other_files(
    tmp_path: Path, field: str
) -> None:
    value: object = {
        "authors": [{"name": "Ada \ud800 Lovelace"}],
        "ai_keywords": ["kv \udfff cache"],
        "githubRepo": "https://github.com/a/b\ud800",
        "projectPage": "https://example.org/\udc00",
    }.get(field, "Broken \ud800 text")
    good = api_file(tmp_path, "good.json", "2510.00001")
    bad = api_file(tmp_path, "bad.json", "2510.00002", **{field: value})
    db = tmp_path / "x.db"
    result = runner.invoke(app, ["ingest", str(good), str(bad), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2 new")
    titles = stored_titles(db)
    assert len(titles) == 2
    shown = runner.invoke(app, ["show", "2510.00002", "--json", "--db", str(db)])
    assert shown.exit_code == 0 and "\\ud800" not in shown.output
