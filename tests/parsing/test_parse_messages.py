"""Parser messages name the line: a field of the wrong type in HF JSON is named with the line it
is on (the trial: `bad2.json: item 2 has no title` for `"title": 5`, which is there, as a number),
and a page capture's abstract under 200 characters is read as the abstract it is."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from typer.testing import CliRunner

from bot.cli import app
from bot.errors import ParseError
from bot.parsing.hf_api import parse_hf_api
from bot.parsing.hf_page import _COUNT, _DATE, _META, parse_hf_page
from bot.parsing.skipped import SkippedEntry
from tests.parsing.test_hf_page import ABSTRACT, _title, _word

MARK = 987654321  # a title no real answer has: the line holding it is the one to name


def item(rank: int, title: object = None) -> dict[str, Any]:
    paper = {
        "id": f"2607.{rank:05d}",
        "title": title if title is not None else f"Paper {rank}",
        "summary": "s",
    }
    return {"paper": paper | {"authors": [{"name": "A", "title": "not the paper's"}]}, "title": "x"}


def test_a_title_of_the_wrong_type_is_named_with_its_line_and_type() -> None:
    data = json.dumps([item(1), item(2, title=5)], indent=2).encode()
    with pytest.raises(ParseError) as caught:
        parse_hf_api(data, source="bad2.json")
    line = next(n for n, text in enumerate(data.decode().splitlines(), 1) if '"title": 5' in text)
    assert (
        str(caught.value) == f"bad2.json, line {line}: item 2 (2607.00002): its title is a number, not text"
    )


def test_ingest_names_the_line_of_a_skipped_item(tmp_path: Path) -> None:
    path = tmp_path / "bad2.json"
    path.write_text(json.dumps([item(1), item(2, title=[1, 2])], indent=1))
    result = CliRunner().invoke(
        app, ["ingest", str(path), "--date", "2026-07-02", "--db", str(tmp_path / "s.db")]
    )
    assert result.exit_code == 0, result.output
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if '"title": [' in text)
    assert (
        result.stderr == f"skipped: {path}, line {line}: item 2 (2607.00002): its title is a list, not text\n"
    )
    assert result.stdout == "1 new, 0 updated, 0 unchanged, 1 skipped\n"


WRONG = st.sampled_from(
    [
        ("title", MARK, "its title is a number, not text"),
        ("publishedAt", f"2026-13-{MARK}", f"publishedAt '2026-13-{MARK}' is not a date"),
        ("submittedOnDailyAt", MARK, "its submittedOnDailyAt is a number, not a date"),
        ("id", MARK, "its id is a number, not text"),
    ]
)


@given(
    st.integers(1, 6),
    st.data(),
    WRONG,
    st.one_of(st.none(), st.integers(0, 4), st.just("\t")),
)
def test_the_named_line_is_the_line_of_the_wrong_field_however_the_json_is_laid_out(
    count: int, data: st.DataObject, wrong: tuple[str, object, str], indent: int | str | None
) -> None:
    bad = data.draw(st.integers(1, count))
    key, value, reason = wrong
    items = [item(rank) for rank in range(1, count + 1)]
    items[bad - 1]["paper"][key] = value
    text = json.dumps(items, indent=indent)
    skipped: list[SkippedEntry] = []
    papers = parse_hf_api(text.encode(), source="d.json", list_date=date(2026, 7, 2), skipped=skipped)
    [entry] = skipped
    expected = next(n for n, line in enumerate(text.splitlines(), 1) if str(MARK) in line)
    assert (entry.line, entry.entry.split(" (")[0], entry.reason) == (expected, f"item {bad}", reason)
    assert [p.rank for p in papers] == [rank for rank in range(1, count + 1) if rank != bad]


ZEBRA = "Juvenile zebra finches copy the song of an adult tutor. We show how they do it."


def test_an_abstract_under_200_characters_is_read_as_the_abstract() -> None:
    title = "Zebra Finches Learn Songs From Their Fathers"
    text = f"Daily Papers\n\nJul 30\n\n{title}\n\n{ZEBRA}\n\nNext\n\n{ABSTRACT}\n"
    papers = parse_hf_page(text.encode(), source="p.txt", today=date(2026, 11, 27))
    assert [(p.paper.title, p.paper.abstract) for p in papers] == [
        ("Zebra Finches Learn Songs From Their Fathers", ZEBRA),
        ("Next", ABSTRACT),
    ]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        # A title whose abstract is missing stays an error when an abstract follows the next title.
        (f"Jul 30\n\nLonely Title\n\nNext Title\n\n{ABSTRACT}\n", 3, "(another title follows at line 5)"),
        # A title line is no abstract: it does not end a sentence.
        ("Jul 30\n\nLonely Title\n\nNext Title\n", 3, "(another title follows at line 5)"),
        (f"Jul 30\n\nT\n\n{ZEBRA}\n\nTruncated Title\n", 7, "has no abstract (the file ends)"),
    ],
)
def test_a_missing_abstract_is_still_named(text: str, line: int, words: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_hf_page(text.encode(), source="p.txt", today=date(2026, 11, 27))
    assert caught.value.line == line and words in str(caught.value)


_sentence = st.lists(_word, min_size=2, max_size=30).map(lambda ws: " ".join(ws).capitalize() + ".")
_short_or_long = st.lists(_sentence, min_size=1, max_size=6).map(" ".join)


@given(st.lists(st.tuples(_title, _short_or_long), min_size=1, max_size=6))
def test_cards_with_abstracts_of_any_length_round_trip(cards: list[tuple[str, str]]) -> None:
    # A drawn title that reads as a count, date or author line ("3 authors") is another test's matter.
    assume(not any(line.fullmatch(title) for title, _ in cards for line in (_COUNT, _DATE, _META)))
    text = "Daily Papers\n\nJul 30\n\n" + "".join(f"{title}\n\n{abstract}\n\n" for title, abstract in cards)
    papers = parse_hf_page(text.encode(), source="p.txt", today=date(2026, 11, 27))
    assert [(p.paper.title, p.paper.abstract) for p in papers] == cards
