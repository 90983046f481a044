"""Exported files say what the papers say, as a file should: a terminal escape in a title is
dropped whole (as the CLI drops it, one sanitizer), Discord's mention breaking stays out of files,
a citation key stays short enough to type however long a title's first word, and tags keep the
letters people typed."""

from __future__ import annotations

from datetime import UTC, datetime

import bibtexparser
import pytest

from bot.domain.library import LibraryEntry, parse_tag, parse_tags
from bot.domain.models import Paper, Source
from bot.domain.printable import printable
from bot.exports import ExportFormat, render
from bot.exports.bibtex import KEY_PART_CHARS, citation_keys

SAVED = datetime(2026, 8, 1, tzinfo=UTC)
ANSI_TITLE = "\x1b[31mRED\x1b[0m Alert: \x1b]0;retitled\x07Terminal Escapes"


def export(fmt: ExportFormat, *papers: Paper, tags: tuple[str, ...] = ()) -> str:
    return render(fmt, [LibraryEntry(pk, paper, SAVED, tags=tags) for pk, paper in enumerate(papers, 1)])[
        1
    ].decode("utf-8")


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_a_terminal_escape_is_dropped_whole_as_the_cli_drops_it(fmt: ExportFormat) -> None:
    paper = Paper(ANSI_TITLE, "Abstract \x1b[1mbold\x1b[0m.", Source.HF_API, arxiv_id="2501.00001")
    text = export(fmt, paper)
    assert "[31m" not in text and "[0m" not in text and "retitled" not in text and "\x1b" not in text
    assert "RED Alert: Terminal Escapes" in text.replace("\\", "")
    assert printable(ANSI_TITLE) == "RED Alert: Terminal Escapes"  # what `paperbot show` prints


def test_a_citation_key_takes_its_word_from_the_title_as_shown_not_its_escape_codes() -> None:
    paper = Paper(ANSI_TITLE, "Abstract.", Source.HF_API, arxiv_id="2501.00001", authors=("Ada Lovelace",))
    [key] = citation_keys([LibraryEntry(1, paper, SAVED)])
    assert key == "lovelace2025red"  # was "lovelace202531mred": the colour code's "31m" glued on


def test_the_markdown_file_keeps_mentions_as_written() -> None:
    paper = Paper("@everyone look: <@123> and @here", "Abstract.", Source.HF_API, arxiv_id="2501.00001")
    text = export(ExportFormat.MARKDOWN, paper)
    assert "\u200b" not in text
    assert "@everyone look: \\<@123> and @here" in text


def test_a_citation_key_is_short_and_unique_however_long_the_title_word() -> None:
    word = "x" * 400
    papers = [
        Paper(
            f"{word}{n} Study",
            "Abstract.",
            Source.HF_API,
            arxiv_id=f"2501.0000{n}",
            authors=("A " + "b" * 400,),
        )
        for n in range(3)
    ]
    keys = citation_keys([LibraryEntry(pk, paper, SAVED) for pk, paper in enumerate(papers, 1)])
    assert len(set(keys)) == 3
    assert all(len(key) <= 2 * KEY_PART_CHARS + 4 + 2 for key in keys)
    assert keys[0] == "b" * KEY_PART_CHARS + "2025" + "x" * KEY_PART_CHARS
    library = bibtexparser.parse_string(export(ExportFormat.BIBTEX, *papers))
    assert library.failed_blocks == [] and [entry.key for entry in library.entries] == keys


def test_tags_keep_the_letters_typed_and_are_no_mentions() -> None:
    assert parse_tags("ÄÖÜ,@everyone #Straße हिन्दी") == ("äöü", "everyone", "straße", "हिन्दी")
    assert parse_tags("A\u0308rger") == ("ärger",)  # typed decomposed, stored composed
    assert parse_tag("äRGER") == parse_tags("Ärger")[0]
