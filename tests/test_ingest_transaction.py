"""`paperbot ingest a b c` stores whole list days a batch at a time (`--one-transaction`: all or
nothing), a failure part-way is said and a rerun completes it, and text JSON cannot store (lone
surrogates) is repaired."""

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


def api_file(tmp_path: Path, name: str, arxiv_id: str, day: str = "2024-07-31", **paper: object) -> Path:
    """A one-paper Hugging Face API answer listing the paper on ``day``."""
    listed_on = f"{day}T00:00:00.000Z"
    item = {
        "paper": {
            "id": arxiv_id,
            "title": f"Paper {arxiv_id}",
            "summary": "An abstract.",
            "submittedOnDailyAt": listed_on,
            **paper,
        },
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


def fail_storing_part(monkeypatch: pytest.MonkeyPatch, failing_part: int) -> None:
    """Storing part ``failing_part`` (one paper a part) raises, as a full disk or a constraint would."""
    monkeypatch.setattr(services.papers, "BATCH_SIZE", 1)  # one paper, one part
    real_write = PaperRepository.write
    calls = 0

    async def failing_write(self: PaperRepository, *args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == failing_part:
            raise sqlite3.IntegrityError("simulated failure while storing.")
        return await real_write(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(PaperRepository, "write", failing_write)


@pytest.mark.parametrize("one_day", [True, False])
@pytest.mark.parametrize("failing_part", [1, 2, 3])
def test_a_store_failure_in_any_file_stores_none_of_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_part: int, one_day: bool
) -> None:
    """In one transaction (``--one-transaction``, or files that are all one list day's)."""
    days = ["2024-07-31"] * 3 if one_day else ["2024-07-29", "2024-07-30", "2024-07-31"]
    files = [api_file(tmp_path, f"f{n}.json", f"2510.0000{n}", days[n - 1]) for n in (1, 2, 3)]
    fail_storing_part(monkeypatch, failing_part)
    db = tmp_path / "x.db"
    flags = [] if one_day else ["--one-transaction"]
    result = runner.invoke(app, ["ingest", *map(str, files), *flags, "--db", str(db)])
    assert result.exit_code != 0
    assert stored_titles(db) == []


@pytest.mark.parametrize("failing_day", [1, 2, 3])
def test_a_store_failure_on_day_k_keeps_the_days_before_and_a_rerun_stores_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_day: int
) -> None:
    """Batches of whole list days (one a batch here): what failed and how far it got are said, and
    running the same ingest again stores exactly the rest, nothing twice."""
    files = [api_file(tmp_path, f"f{n}.json", f"2510.0000{n}", f"2024-07-0{n}") for n in (1, 2, 3)]
    monkeypatch.setattr(services.papers, "COMMIT_PAPERS", 1)
    fail_storing_part(monkeypatch, failing_day)
    db = tmp_path / "x.db"
    args = ["ingest", *map(str, files), "--db", str(db)]
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert "simulated failure while storing" in result.output
    before = [f"Paper 2510.0000{n}" for n in range(1, failing_day)]
    assert stored_titles(db) == before
    if before:
        assert f"Stored before that: {len(before)} of 3 papers" in " ".join(result.output.split())

    monkeypatch.undo()
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert again.output.startswith(f"{3 - len(before)} new, 0 updated, {len(before)} unchanged")
    assert stored_titles(db) == [f"Paper 2510.0000{n}" for n in (1, 2, 3)]


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
