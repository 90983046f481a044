"""Decoding and link finding shared by the parsers."""

from __future__ import annotations

import re
from datetime import date

from bot.errors import ParseError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_URL = re.compile(r"https?://[^\s<>\"'{}|\\^`]+")
_CODE_HOSTS = ("github.com/", "gitlab.com/", "bitbucket.org/", "codeberg.org/")
_NOT_A_PROJECT_PAGE = ("arxiv.org/", "huggingface.co/datasets/", "huggingface.co/models/", "doi.org/")


def decode_text(data: bytes, *, source: str) -> str:
    """UTF-8 text without BOM, or a ParseError naming the first line that is not text."""
    if not data.strip():
        raise ParseError("the file is empty", source=source)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ParseError("not UTF-8 text (binary data?)", source=source, line=line) from None
    bad = _CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise ParseError("control characters found: this is not a text capture", source=source, line=line)
    return text


def find_urls(text: str) -> list[str]:
    """URLs in running text, without the sentence punctuation that follows them."""
    found = []
    for raw in _URL.findall(text):
        url = raw.rstrip(".,;:!?")
        while url.endswith(")") and url.count("(") < url.count(")"):
            url = url[:-1].rstrip(".,;:!?")
        found.append(url)
    return found


def split_links(text: str) -> tuple[str | None, str | None]:
    """The first code repository and the first project page mentioned in ``text``."""
    code: str | None = None
    project: str | None = None
    for url in find_urls(text):
        bare = url.split("://", 1)[1].lower()
        if code is None and bare.startswith(_CODE_HOSTS):
            code = url
        elif project is None and not bare.startswith(_CODE_HOSTS + _NOT_A_PROJECT_PAGE):
            project = url
    return code, project


def most_recent(month: int, day: int, reference: date) -> date:
    """The latest ``month``/``day`` not after ``reference`` (a yearless date line means the past)."""
    for year in range(reference.year, reference.year - 9, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:  # 29 Feb outside a leap year
            continue
        if candidate <= reference:
            return candidate
    raise ValueError(f"no valid date for month {month}, day {day}")
