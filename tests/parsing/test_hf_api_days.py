"""Thirty real `daily_papers?date=D` answers (tests/fixtures/hf-api-days.tar.xz, copied byte for byte
from /work/shared/corpus/hf-daily-papers/hf-api-days): each is exactly one list, on its own day."""

from __future__ import annotations

import json
import sqlite3
import tarfile
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.parsing.hf_api import parse_hf_api

ARCHIVE = Path(__file__).parent.parent / "fixtures" / "hf-api-days.tar.xz"


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("days")
    with tarfile.open(ARCHIVE) as archive:
        archive.extractall(folder, filter="data")
    files = sorted((folder / "hf-api-days").glob("*.json"))
    assert len(files) == 30
    return files


def test_ingesting_thirty_real_days_gives_thirty_lists_with_each_files_papers(
    days: list[Path], tmp_path: Path
) -> None:
    db = tmp_path / "days.db"
    result = CliRunner().invoke(app, ["ingest", *map(str, days), "--db", str(db)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT l.list_date, p.arxiv_id FROM listings l JOIN papers p ON p.pk = l.paper_pk "
            "ORDER BY l.list_date, l.rank"
        ).fetchall()
    stored: dict[str, list[str]] = {}
    for day, arxiv_id in rows:
        stored.setdefault(day, []).append(arxiv_id)
    expected = {path.stem: [item["paper"]["id"] for item in json.loads(path.read_bytes())] for path in days}
    assert stored == expected


def test_every_answer_is_one_list_even_without_a_date_in_its_name(days: list[Path]) -> None:
    for path in days:
        listed = parse_hf_api(path.read_bytes(), source="<stdin>")
        assert len({item.list_date for item in listed}) == 1, path.name
        items = json.loads(path.read_bytes())
        if "submittedOnDailyAt" in items[0]["paper"]:
            assert listed[0].list_date == date.fromisoformat(path.stem)


def test_the_list_day_is_submitted_on_daily_at_not_the_earlier_published_at() -> None:
    item = {
        "paper": {
            "id": "2505.00001",
            "title": "T",
            "summary": "S",
            "submittedOnDailyAt": "2025-05-28T00:16:03Z",
        },
        "publishedAt": "2025-05-23T21:00:20.000Z",
    }
    older = {
        "paper": {"id": "2505.00002", "title": "U", "summary": "S"},
        "publishedAt": "2025-05-27T01:00:00Z",
    }
    listed = parse_hf_api(json.dumps([item, older]).encode())
    assert [p.list_date for p in listed] == [date(2025, 5, 28), date(2025, 5, 28)]
    named = parse_hf_api(json.dumps([older]).encode(), default_date=date(2025, 5, 29))
    assert named[0].list_date == date(2025, 5, 29)
    fetched = parse_hf_api(json.dumps([item]).encode(), list_date=date(2025, 5, 30))
    assert fetched[0].list_date == date(2025, 5, 30)  # the day asked for is the list's day
