"""Pick the parser for a file by looking at its content, not its name."""

from __future__ import annotations

from datetime import date

from bot.domain.models import ListedPaper
from bot.parsing.hf_page import parse_hf_page


def parse_file(
    data: bytes,
    *,
    source: str,
    today: date | None = None,
    year: int | None = None,
    list_date: date | None = None,
) -> list[ListedPaper]:
    """Papers from a file in any supported format (today: the Daily Papers page text)."""
    return parse_hf_page(data, source=source, today=today, year=year, list_date=list_date)
