"""A member's library as files for reference managers and spreadsheets: pure functions, no I/O.

``render(format, entries)`` returns the file name and bytes of the library's entries
(bot.domain.library.LibraryEntry); each format lives in its own module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from enum import StrEnum

from bot.domain.library import LibraryEntry
from bot.domain.models import Paper
from bot.domain.printable import without_escapes
from bot.domain.text import clean_line

# C0/C1 controls and Unicode line/paragraph separators: no format keeps them, several break on them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class ExportFormat(StrEnum):
    BIBTEX = "bibtex"
    RIS = "ris"
    CSV = "csv"
    MARKDOWN = "markdown"


def plain(text: str) -> str:
    """``text`` on one line without escape sequences (dropped whole, as the CLI drops them) or other
    control characters: what every format writes."""
    return clean_line(_CONTROL.sub(" ", without_escapes(text)))


def paper_date(paper: Paper) -> date | None:
    """Published, else first listed, else the month a new-style arXiv id names."""
    if paper.published or paper.first_listed:
        return paper.published or paper.first_listed
    arxiv = paper.arxiv_id or ""
    if len(arxiv) >= 9 and arxiv[4] == "." and arxiv[:4].isdigit():
        year, month = 2000 + int(arxiv[:2]), int(arxiv[2:4])
        if 1 <= month <= 12:
            return date(year, month, 1)
    return None


def render(fmt: ExportFormat, entries: Sequence[LibraryEntry]) -> tuple[str, bytes]:
    """(file name, UTF-8 bytes) of ``entries`` in ``fmt``."""
    from bot.exports import bibtex, markdown, ris, table

    writers: dict[ExportFormat, tuple[str, Callable[[Sequence[LibraryEntry]], str]]] = {
        ExportFormat.BIBTEX: ("library.bib", bibtex.dumps),
        ExportFormat.RIS: ("library.ris", ris.dumps),
        ExportFormat.CSV: ("library.csv", table.dumps),
        ExportFormat.MARKDOWN: ("library.md", markdown.dumps),
    }
    name, write = writers[fmt]
    return name, write(entries).encode("utf-8")
