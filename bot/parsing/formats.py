"""Pick the parser for a file by looking at its content, not its name."""

from __future__ import annotations

import re
from datetime import date
from pathlib import PurePath

from bot.domain.models import ListedPaper
from bot.parsing.arxiv import parse_arxiv_atom, parse_arxiv_rss
from bot.parsing.hf_api import parse_hf_api
from bot.parsing.hf_page import parse_hf_page
from bot.parsing.skipped import SkippedEntry

_ISO_DATE = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")
SNIFF_BYTES = 2048  # a file's format is told from this many leading bytes


def sniff(data: bytes) -> str:
    """'hf-api', 'arxiv-rss', 'arxiv-atom' or 'hf-page' (the fallback: plain text)."""
    head = data[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"[", b"{")):
        return "hf-api"
    if head.startswith(b"<"):
        return "arxiv-atom" if b"http://www.w3.org/2005/Atom" in head and b"<feed" in head else "arxiv-rss"
    return "hf-page"


def date_in_name(path: str) -> date | None:
    """The ISO date a file's name carries (``hf/2024-12-06.json``), if any."""
    found = _ISO_DATE.search(PurePath(path).name)
    if not found:
        return None
    try:
        return date.fromisoformat(found.group())
    except ValueError:
        return None


def parse_file(
    data: bytes,
    *,
    source: str,
    today: date | None = None,
    year: int | None = None,
    list_date: date | None = None,
    skipped: list[SkippedEntry] | None = None,
) -> list[ListedPaper]:
    """Papers from a file in any supported format: page text, HF API JSON, arXiv RSS or Atom;
    malformed feed entries go to ``skipped`` (None: they refuse the file)."""
    kind = sniff(data)
    if kind == "hf-api":
        # Saved API answers are usually named by their date (`2024-12-06.json`): old answers do not
        # say their day inside, so the name is the best witness after --date.
        default = list_date or date_in_name(source)
        return parse_hf_api(data, source=source, default_date=default, skipped=skipped)
    if kind == "arxiv-atom":
        return parse_arxiv_atom(data, source=source, skipped=skipped)
    if kind == "arxiv-rss":
        return parse_arxiv_rss(data, source=source, skipped=skipped)
    return parse_hf_page(data, source=source, today=today, year=year, list_date=list_date, skipped=skipped)
