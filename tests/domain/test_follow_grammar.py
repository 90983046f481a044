"""Every example of the README's follow grammar table, checked: how it is read, what it alerts on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.domain.follows import naive_matches, paper_words, parse_keyword

README = Path(__file__).parents[2] / "README.md"


def examples() -> list[tuple[str, str, str, str]]:
    text = README.read_text("utf-8")
    block = text.split("<!-- follow-grammar-examples")[1].split("<!-- /follow-grammar-examples -->")[0]
    rows = []
    for line in block.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows.append((cells[0][1:-1], cells[1][1:-1], cells[2], cells[3]))
    return rows


EXAMPLES = examples()


def test_the_readme_documents_the_grammar_with_examples() -> None:
    assert len(EXAMPLES) >= 12
    documented = {typed for typed, *_ in EXAMPLES}
    assert {"-video diffusion", "NOT video diffusion", "diffusion -video models", "news", "C++"} <= documented


@pytest.mark.parametrize(("typed", "read_as", "alerts", "silent"), EXAMPLES)
def test_each_documented_example(typed: str, read_as: str, alerts: str, silent: str) -> None:
    follow = parse_keyword(typed)
    assert follow.key == read_as
    assert naive_matches({1: follow}, paper_words(alerts, "", ())) == [1], alerts
    assert naive_matches({1: follow}, paper_words(silent, "", ())) == [], silent


@pytest.mark.parametrize(
    ("typed", "same_as"),
    [
        ("-video diffusion", "diffusion -video"),
        ("NOT video diffusion", "diffusion NOT video"),
        ("diffusion -video models", '"diffusion models" -video'),
        ("diffusion NOT video models", "diffusion models -video"),
        ("a -b -c d", '"a d" -b -c'),
        ('-"text to video" video diffusion', '"video diffusion" -"text to video"'),
    ],
)
def test_negation_binds_to_one_word_or_phrase_wherever_it_stands(typed: str, same_as: str) -> None:
    assert parse_keyword(typed).key == parse_keyword(same_as).key


@pytest.mark.parametrize("word", ["news", "series", "species", "bias", "lens", "physics"])
def test_words_that_only_look_plural_are_not_stemmed(word: str) -> None:
    shorter = word[:-1]
    assert naive_matches({1: parse_keyword(word)}, paper_words(f"The {shorter} model", "", ())) == []


@pytest.mark.parametrize("symbol", ["C++", "C#", "F#"])
def test_language_symbols_do_not_match_the_bare_letter(symbol: str) -> None:
    follow = parse_keyword(symbol)
    assert naive_matches({1: follow}, paper_words("Proofs are in Appendix C and F", "", ())) == []
    assert naive_matches({1: follow}, paper_words(f"Fast {symbol} builds", "", ())) == [1]
    assert re.fullmatch(r"[a-z][+#]+", follow.key)
