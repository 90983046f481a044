"""CSV for spreadsheets: one row per saved paper, RFC 4180 quoting.

A cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR would run as a formula when the file is
opened in a spreadsheet (CSV injection): such text cells get a leading apostrophe, the usual guard.
A spreadsheet hides a leading apostrophe as its text marker, so a text that starts with one gets
one more: a title "'@home" shows as itself, not as "@home", and reads apart from "@home".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from bot.domain.library import LibraryEntry
from bot.exports import paper_date, plain

COLUMNS = ("id", "title", "authors", "date", "url", "saved_at", "read", "tags", "note")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_GUARDED_START = (*_FORMULA_START, "'")


def cell(text: str) -> str:
    text = plain(text)
    return "'" + text if text.startswith(_GUARDED_START) else text


def dumps(entries: Sequence[LibraryEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for entry in entries:
        paper = entry.paper
        when = paper_date(paper)
        writer.writerow(
            (
                paper.id,
                cell(paper.title),
                cell("; ".join(paper.authors)),
                when.isoformat() if when else "",
                paper.url or "",
                entry.saved_at.isoformat(timespec="seconds"),
                "yes" if entry.read else "no",
                cell(", ".join(entry.tags)),
                cell(entry.note or ""),
            )
        )
    return out.getvalue()
