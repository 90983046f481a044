"""The Hugging Face Daily Papers page as text (a copy of the rendered page).

The capture is a header, then for each day a date line (``Jul 30``) followed by cards. A card
is at least a title line and an abstract paragraph; live captures add an upvote count (or
``-``) above the title, ``12 authors`` or ``Submitted by ...`` lines, an organisation name,
a per-card date (``May 30``, ``Mar 8, 2024``), comment or star counts, and titles wrapped
over two lines. Each line is classified first; a small state machine then builds cards.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date

from bot.domain.models import ListedPaper, Paper, Source
from bot.domain.text import clean_line
from bot.errors import ParseError
from bot.parsing._text import decode_text, most_recent, split_links
from bot.parsing.limits import trimmed
from bot.parsing.skipped import SkippedEntry

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DATE = re.compile(
    r"(?:(?:published|submitted)\s+on\s+)?"
    r"(?P<month>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?P<day>\d{1,2})"
    r"(?:,?\s+(?P<year>\d{4}))?",
    re.IGNORECASE,
)
_COUNT = re.compile(r"(?:-|\d[\d,]*|\d+(?:\.\d+)?k)", re.IGNORECASE)
_META = re.compile(
    r"(?:\d+\s+authors?|submitted\s+by\b.*|[·•]|"
    r"[·•]?\s*\d[\d,.]*k?\s*(?:comments?|stars?|upvotes?)|★\s*\d[\d,.]*k?)",
    re.IGNORECASE,
)
_SENTENCE_BREAK = re.compile(r"[.!?]\s+[A-Z]")
_HEADER_LINES = {
    "new",
    "subscribe",
    "daily papers",
    "get trending papers in your email inbox!",
    "byak and the research community",
    "by ak and the research community",
}
_LONG_LINE = 200


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "date" | "count" | "meta" | "title" | "abstract"
    line: int
    text: str = ""
    day: date | None = None
    # The block's first line was indented: arXiv wraps a long title as "first part\n  rest".
    indented: bool = False


def _looks_like_abstract(text: str) -> bool:
    return len(text) >= 2 * _LONG_LINE or (
        len(text) >= _LONG_LINE and (text.endswith(".") or bool(_SENTENCE_BREAK.search(text)))
    )


def _join_wrapped(lines: Sequence[str]) -> str:
    """Join hard-wrapped lines; a word hyphenated at a line end is glued back together."""
    out = ""
    for line in lines:
        if out.endswith("-") and not out.endswith(" -"):
            out += line
        elif out:
            out += " " + line
        else:
            out = line
    return clean_line(out)


def _date_of(match: re.Match[str], reference: date, year: int | None) -> date:
    month = _MONTHS.index(match.group("month")[:3].lower()) + 1
    day = int(match.group("day"))
    explicit_year = match.group("year")
    if explicit_year or year is not None:
        return date(int(explicit_year) if explicit_year else year or 0, month, day)
    return most_recent(month, day, reference)


def _title_end(block: Sequence[str], indented: Sequence[bool]) -> int | None:
    """Where a title ends inside a block of text lines with no blank line between title and abstract:
    at the first long line, or after a first line and its indented continuation lines."""
    long_at = next((i for i, text in enumerate(block) if len(text) >= _LONG_LINE), None)
    if long_at:
        return long_at
    if len(block) > 2 and not indented[0] and indented[1]:
        end = next((i for i in range(1, len(block)) if not indented[i]), None)
        if end is not None and _looks_like_abstract(_join_wrapped(block[end:])):
            return end
    return None


def _tokens(
    lines: Sequence[str],
    indents: Sequence[bool],
    start: int,
    reference: date,
    year: int | None,
    source: str,
) -> Iterator[_Token]:
    """Classify lines from index ``start``; consecutive text lines form one block."""
    block: list[str] = []
    indented: list[bool] = []
    block_line = 0

    def flush() -> Iterator[_Token]:
        if not block:
            return
        title_end = _title_end(block, indented)
        if title_end:  # a title directly above its abstract, no blank line between
            yield _Token("title", block_line, _join_wrapped(block[:title_end]))
            yield _Token("abstract", block_line + title_end, _join_wrapped(block[title_end:]))
        else:
            text = _join_wrapped(block)
            kind = "abstract" if _looks_like_abstract(text) else "title"
            yield _Token(kind, block_line, text, indented=indented[0])
        block.clear()
        indented.clear()

    for index in range(start, len(lines)):
        number, text = index + 1, lines[index]
        date_match = _DATE.fullmatch(text)
        if not text or date_match or _COUNT.fullmatch(text) or _META.fullmatch(text):
            yield from flush()
        if not text:
            continue
        if date_match:
            try:
                yield _Token("date", number, text, _date_of(date_match, reference, year))
            except ValueError:
                raise ParseError(f"{text!r} is not a valid date", source=source, line=number) from None
        elif _COUNT.fullmatch(text):
            yield _Token("count", number, text)
        elif _META.fullmatch(text):
            yield _Token("meta", number, text)
        else:
            if not block:
                block_line = number
            block.append(text)
            indented.append(indents[index])
    yield from flush()


def _upvotes(text: str) -> int | None:
    if text == "-":
        return 0
    text = text.lower().replace(",", "")
    if text.endswith("k"):
        return int(float(text[:-1]) * 1000)
    return int(text)


@dataclass(slots=True)
class _Card:
    upvotes: int | None = None
    title: str | None = None
    title_line: int = 0
    organization: str | None = None
    published: date | None = None
    meta_after_title: bool = False


def parse_hf_page(
    data: bytes,
    *,
    source: str = "<page>",
    today: date | None = None,
    year: int | None = None,
    list_date: date | None = None,
    skipped: list[SkippedEntry] | None = None,
) -> list[ListedPaper]:
    """Papers of a Daily Papers page capture, ranked in page order within each date section.

    ``today`` anchors yearless date lines (the most recent such date not after it); ``year``
    forces their year; ``list_date`` is used when the capture has no date line at all. A paper cut
    to the limits (bot.parsing.limits) is named in ``skipped`` as trimmed.
    """
    reference = today or date.today()
    raw = decode_text(data, source=source).splitlines()
    lines = [line.strip() for line in raw]
    indents = [line[:1].isspace() for line in raw]
    first_date = next((i for i, line in enumerate(lines) if _DATE.fullmatch(line)), None)
    start = first_date if first_date is not None else 0
    section: date | None = list_date
    rank = 0
    card = _Card()
    papers: list[ListedPaper] = []

    tokens = list(_tokens(lines, indents, start, reference, year, source))
    for index, token in enumerate(tokens):
        if _is_short_abstract(token, card, tokens, index):
            token = replace(token, kind="abstract")
        if token.kind == "date":
            if card.title is None:  # between cards: a new day's section
                section, rank, card = token.day, 0, _Card()
            else:
                card.published, card.meta_after_title = token.day, True
        elif token.kind in ("count", "meta"):
            if card.title is not None:  # counts after the title are comments or stars
                card.meta_after_title = True
            elif token.kind == "count":
                # The upvote count sits right above the title; an earlier bare number was the
                # previous card's comment count.
                card.upvotes = _upvotes(token.text)
        elif token.kind == "title":
            if first_date is None and card.title is None and token.text.lower() in _HEADER_LINES:
                continue
            if card.title is None:
                card.title, card.title_line = token.text, token.line
            elif token.indented and not card.meta_after_title:
                card.title = _join_wrapped([card.title, token.text])  # a wrapped title's second line
            elif card.meta_after_title and card.organization is None:
                card.organization = token.text
            else:
                raise ParseError(
                    f"title {_short(card.title)} has no abstract "
                    f"(another title follows at line {token.line})",
                    source=source,
                    line=card.title_line,
                )
        else:  # abstract
            if card.title is None:
                raise ParseError("an abstract with no title line above it", source=source, line=token.line)
            if section is None:
                raise ParseError(
                    "no date line (such as 'Jul 30') before the first paper; pass --date",
                    source=source,
                    line=card.title_line,
                )
            rank += 1
            listed = ListedPaper(_paper(card, token.text, section), section, rank)
            where = f"title {_short(card.title or '')}"
            papers.append(trimmed(listed, skipped, source, where, line=card.title_line))
            card = _Card()

    if card.title is not None:
        raise ParseError(
            f"title {_short(card.title)} has no abstract (the file ends)", source=source, line=card.title_line
        )
    if not papers:
        raise ParseError("no papers found (expected title and abstract paragraphs)", source=source)
    return papers


def _is_short_abstract(token: _Token, card: _Card, tokens: Sequence[_Token], index: int) -> bool:
    """Whether a block read as a title is in fact the abstract of the card above it.

    A block is read as an abstract by its length (``_looks_like_abstract``), so an abstract under
    200 characters reads as a title, and a card with one was refused as "title ... has no
    abstract (another title follows)". It is the card's abstract when it follows the card's title
    directly (no author or date lines between: after those, a short line is the organisation),
    reads as prose (it ends a sentence) and no abstract follows it (then it would be a title whose
    card lost the abstract above)."""
    if token.kind != "title" or card.title is None or card.meta_after_title or token.indented:
        return False
    if not token.text.endswith((".", "!", "?")):
        return False
    for later in range(index + 1, len(tokens)):  # the next block, not a copy of the rest of the page
        if tokens[later].kind in ("title", "abstract", "date"):
            return tokens[later].kind != "abstract"
    return True


def _short(title: str) -> str:
    return repr(title if len(title) <= 60 else title[:57] + "...")


def _paper(card: _Card, abstract: str, listed: date) -> Paper:
    assert card.title is not None
    code_url, project_url = split_links(abstract)
    return Paper(
        title=card.title,
        abstract=abstract,
        source=Source.HF_PAGE,
        published=card.published,
        first_listed=listed,
        code_url=code_url,
        project_url=project_url,
        organization=card.organization,
        upvotes=card.upvotes,
    )


def render_hf_page(sections: Sequence[tuple[date, Sequence[Paper]]]) -> str:
    """The page text for ``sections`` (the inverse of :func:`parse_hf_page`, used by tests and tools)."""
    out = ["Daily Papers", "", "byAK and the research community", ""]
    for day, papers in sections:
        out += [day.strftime("%b ") + str(day.day), ""]
        for paper in papers:
            out += [paper.title, "", paper.abstract, ""]
    return "\n".join(out)
