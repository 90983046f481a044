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


def test_the_table_numbers_results_by_rank_instead_of_unitless_scores(db: Path) -> None:
    result = runner.invoke(app, ["search", "learning", "--db", str(db)])
    assert result.exit_code == 0
    header = next(line for line in result.stdout.splitlines() if "title" in line)
    assert "score" not in header and "#" in header
    ranks = [line.split("│")[1].strip() for line in result.stdout.splitlines() if line.startswith("│")]
    assert [rank for rank in ranks if rank] == [str(n) for n in range(1, 11)]
    assert "0.00" not in result.stdout


@pytest.mark.parametrize(
    ("query", "told"),
    [
        ("-learning", "only leaves words out"),
        ("(((", "no words to look for"),
        ('author:"', "no words to look for"),
    ],
)
def test_a_search_with_nothing_to_look_for_says_so(db: Path, query: str, told: str) -> None:
    result = runner.invoke(app, ["search", "--db", str(db), "--", query])
    assert result.exit_code == 1 and told in result.stderr and result.stdout == ""


def test_a_left_out_word_is_left_out(db: Path) -> None:
    def ids(query: str) -> set[str]:
        found = runner.invoke(app, ["search", "--json", "--limit", "100", "--db", str(db), "--", query])
        return {hit["id"] for hit in json.loads(found.stdout)}

    learning, federated = ids("learning"), ids("federated")
    assert federated & learning and ids("learning -federated") == learning - federated


def test_a_query_starting_with_a_left_out_word_goes_after_double_dash_as_help_and_readme_say(
    db: Path,
) -> None:
    shown = runner.invoke(app, ["search", "--help"], terminal_width=200).stdout
    assert 'paperbot search -- "-video diffusion"' in " ".join(shown.split())
    readme = (Path(__file__).parent.parent / "README.md").read_text("utf-8")
    assert 'paperbot search -- "-video diffusion"' in readme
    found = runner.invoke(app, ["search", "--json", "--db", str(db), "--", "-video learning"])
    assert found.exit_code == 0 and json.loads(found.stdout)
