"""Pick the parser for a file by looking at its content, not its name."""

from __future__ import annotations

from datetime import date

from bot.domain.models import ListedPaper
from bot.parsing.arxiv import parse_arxiv_atom, parse_arxiv_rss
from bot.parsing.hf_api import parse_hf_api
from bot.parsing.hf_page import parse_hf_page


def sniff(data: bytes) -> str:
    """'hf-api', 'arxiv-rss', 'arxiv-atom' or 'hf-page' (the fallback: plain text)."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"[", b"{")):
        return "hf-api"
    if head.startswith(b"<"):
        return "arxiv-atom" if b"http://www.w3.org/2005/Atom" in head and b"<feed" in head else "arxiv-rss"
    return "hf-page"


def parse_file(
    data: bytes,
    *,
    source: str,
    today: date | None = None,
    year: int | None = None,
    list_date: date | None = None,
) -> list[ListedPaper]:
    """Papers from a file in any supported format: page text, HF API JSON, arXiv RSS or Atom."""
    kind = sniff(data)
    if kind == "hf-api":
        return parse_hf_api(data, source=source, list_date=list_date)
    if kind == "arxiv-atom":
        return parse_arxiv_atom(data, source=source)
    if kind == "arxiv-rss":
        return parse_arxiv_rss(data, source=source)
    return parse_hf_page(data, source=source, today=today, year=year, list_date=list_date)
