"""`paperbot search` prints results best first from one pass, marks corrected ones, and says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "search.db"
    assert runner.invoke(app, ["ingest", "--db", str(path)]).exit_code == 0
    return path


@pytest.mark.parametrize(
    "query", ["learning", "federated learning", "federatd lerning", "pruning quantum", "value lerning agents"]
)
def test_json_results_are_best_first_and_marked_by_their_pass(db: Path, query: str) -> None:
    result = runner.invoke(app, ["search", query, "--json", "--limit", "20", "--db", str(db)])
    assert result.exit_code == 0
    hits = json.loads(result.stdout)
    order = [(hit["phrase"], hit["score"]) for hit in hits]  # the words side by side first
    assert order == sorted(order, reverse=True)
    assert len({hit["fuzzy"] for hit in hits}) <= 1


def test_the_table_says_the_count_and_the_correction(db: Path) -> None:
    result = runner.invoke(app, ["search", "federatd lerning", "--db", str(db)])
    assert result.exit_code == 0
    assert "spelling corrected to 'federated learning'" in result.stderr
    assert " of " in result.stderr or "results" in result.stderr
    assert all(
        hit["fuzzy"]
        for hit in json.loads(
            runner.invoke(app, ["search", "federatd lerning", "--json", "--db", str(db)]).stdout
        )
    )
