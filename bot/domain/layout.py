"""Text shaping for chat: cutting cleanly, shortening author lists, paging. No Discord types."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

from bot.domain.text import clean_line, clean_lines, strip_invisible

ELLIPSIS = "…"
T = TypeVar("T")
_SENTENCE_END = re.compile(r"[.!?](?=\s)")
# "<" too: Discord renders <t:0:R>, <:emoji:1>, </cmd:1> and <@1> tokens; a backslash before "<"
# shows them as typed.
_INLINE_MARKDOWN = re.compile(r"([\\*_~`|\[\]<])")
_LINE_START_MARKDOWN = re.compile(r"^(\s*)([#>-])", re.MULTILINE)  # headings, quotes, lists
# "1. " at a line start opens an ordered list that renumbers from 1: a title "2. Results" would
# show as "1. Results". Escaping the dot keeps the number as typed.
_ORDERED_LIST_MARKER = re.compile(r"^(\s*\d+)\.(?=\s)", re.MULTILINE)
_MENTION = re.compile(r"@(everyone|here|[!&]?\d+)|<(@[!&]?|#)(\d+)>")


def escape(text: str) -> str:
    """Chat text made inert: markdown characters and ``<`` tokens escaped, mentions broken with a
    zero-width space.

    Bot messages also go out with no allowed mentions; this keeps the layout intact as well.
    Zero-width and direction-override characters are dropped: they could reorder or hide text.
    """
    text = strip_invisible(text)
    text = _MENTION.sub(lambda m: m.group(0).replace("@", "@\u200b").replace("<#", "<#\u200b"), text)
    return _markdown_escaped(text)


def escape_markdown(text: str) -> str:
    """Text shown as typed in a Markdown file: markdown characters escaped, invisible characters
    dropped, and mentions left alone (a file mentions nobody; a zero-width space in it would only
    break a search for "@everyone")."""
    return _markdown_escaped(strip_invisible(text))


def _markdown_escaped(text: str) -> str:
    text = _INLINE_MARKDOWN.sub(r"\\\1", text)
    text = _ORDERED_LIST_MARKER.sub(r"\1\\.", text)
    return _LINE_START_MARKDOWN.sub(r"\1\\\2", text)


def escape_within(text: str, limit: int) -> str:
    """Paper or member text for chat (content, embed titles, descriptions, field values): escaped
    (``escape``: markdown shown as typed, no mentions) and then cut within ``limit``. Escaping
    lengthens text, so the cut comes after it, and never inside an escape."""
    return truncate(escape(text), limit)


def truncate(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, cut at a word boundary with an ellipsis when needed.
    A cut never ends in half an escape: a lone backslash would escape the ellipsis or show."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    while True:
        trimmed = cut.rstrip(" ,;:-")
        if (len(trimmed) - len(trimmed.rstrip("\\"))) % 2:  # "\*" cut after its backslash
            trimmed = trimmed[:-1]
        if trimmed == cut:
            return cut + ELLIPSIS
        cut = trimmed


def cut_at_sentence(text: str, limit: int) -> str:
    """Whole sentences within ``limit`` when possible, else a clean word cut."""
    if len(text) <= limit:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, limit)]
    if ends and ends[-1] >= limit // 2:
        return text[: ends[-1]] + " " + ELLIPSIS
    return truncate(text, limit)


def md_link(text: str, url: str | None) -> str:
    """``[text](<url>)`` (the angle brackets stop a link preview), or the bare text without a URL.
    ``text`` must already be escaped."""
    return f"[{text}](<{url}>)" if url else text


def plural(count: int, noun: str) -> str:
    """``1 paper``, ``2 papers``."""
    return f"{count} {noun}{'s' * (count != 1)}"


def byline(*parts: str) -> str:
    """The non-empty parts joined with a middle dot."""
    return " · ".join(part for part in parts if part)


def short_authors(authors: Sequence[str], *, keep: int = 3, limit: int = 200) -> str:
    """``A, B, C et al.`` for long lists; always within ``limit`` characters; empty when unknown."""
    authors = clean_lines(authors)  # a name stored before blanks were judged after cleaning may be blank
    if not authors:
        return ""
    shown = ", ".join(authors[:keep])
    if len(authors) > keep:
        shown += " et al."
    return truncate(shown, limit)


def one_line(text: str, limit: int) -> str:
    return truncate(clean_line(text), limit)


def pages(items: Sequence[T], size: int) -> list[list[T]]:
    """Consecutive chunks of at most ``size`` items (at least one page, possibly empty)."""
    if size <= 0:
        raise ValueError("page size must be positive")
    return [list(items[i : i + size]) for i in range(0, len(items), size)] or [[]]


def text_pages(header: str, lines: Sequence[str], *, limit: int, per_page: int = 10) -> list[str]:
    """``lines`` under ``header`` as message texts within ``limit`` characters and ``per_page``
    lines each; with more than one page each says which it is ("Page 2/3"). No line is cut or lost
    (a line longer than a page allows is truncated, never dropped)."""
    footer_room = len("\n\nPage 99/99")
    room = limit - len(header) - 1 - footer_room
    chunks: list[list[str]] = [[]]
    used = 0
    for line in lines:
        line = truncate(line, room)
        if chunks[-1] and (len(chunks[-1]) >= per_page or used + 1 + len(line) > room):
            chunks.append([])
            used = 0
        chunks[-1].append(line)
        used += len(line) + 1
    texts = [header + "\n" + "\n".join(chunk) for chunk in chunks]
    if len(texts) == 1:
        return texts
    return [f"{text}\n\nPage {n}/{len(texts)}" for n, text in enumerate(texts, 1)]
