"""How much of one paper's text paperbot keeps, whichever parser read it (README: File size limits).

A file's size is capped before it is parsed (bot.sources.files), but one paper inside a file under
that cap could still carry megabytes in one field: SQLite stored it whole, in every index, while
PostgreSQL's search column caps at 1 MB (migration 0042). Each limit is far above any real paper,
so a real paper is never changed; a field over its limit is cut to it (the first characters, the
first names) and the paper stored, the cut named where the parser reports what it left out.
"""

from __future__ import annotations

from dataclasses import replace

from bot.domain.models import ListedPaper, Paper
from bot.parsing.skipped import SkippedEntry

TITLE_CHARS = 1_000  # arXiv's longest titles: about 300 characters
ABSTRACT_CHARS = 20_000  # arXiv takes at most 1,920 characters
SUMMARY_CHARS = 5_000  # Hugging Face's AI summary: one or two sentences
AUTHORS = 6_000  # the longest real author list: 5,154 (ATLAS and CMS, 2015)
AUTHOR_CHARS = 300  # a name with its particles and suffixes: under 100
KEYWORDS = 200  # Hugging Face lists about 10 AI keywords a paper
KEYWORD_CHARS = 200  # a keyword is a word or a short phrase


def _cut(text: str, limit: int, field: str, cuts: list[str]) -> str:
    if len(text) <= limit:
        return text
    cuts.append(f"its {field} ({len(text):,} characters) cut to {limit:,}")
    return text[:limit]


def _cut_each(
    values: tuple[str, ...], most: int, chars: int, plural: str, singular: str, cuts: list[str]
) -> tuple[str, ...]:
    if len(values) > most:
        cuts.append(f"its {len(values):,} {plural} cut to the first {most:,}")
        values = values[:most]
    long = sum(1 for value in values if len(value) > chars)
    if not long:
        return values
    cuts.append(f"{long:,} {singular if long == 1 else plural} over {chars:,} characters cut to {chars:,}")
    return tuple(value[:chars] for value in values)


def within_limits(paper: Paper) -> tuple[Paper, list[str]]:
    """``paper`` with each field over its limit cut to it (the same object when none is), and what
    was cut, in words (``its abstract (25,000 characters) cut to 20,000``)."""
    cuts: list[str] = []
    title = _cut(paper.title, TITLE_CHARS, "title", cuts)
    abstract = _cut(paper.abstract, ABSTRACT_CHARS, "abstract", cuts)
    summary = None if paper.ai_summary is None else _cut(paper.ai_summary, SUMMARY_CHARS, "AI summary", cuts)
    authors = _cut_each(paper.authors, AUTHORS, AUTHOR_CHARS, "author names", "author name", cuts)
    keywords = _cut_each(paper.ai_keywords, KEYWORDS, KEYWORD_CHARS, "keywords", "keyword", cuts)
    if not cuts:
        return paper, cuts
    trimmed = replace(
        paper, title=title, abstract=abstract, ai_summary=summary, authors=authors, ai_keywords=keywords
    )
    return trimmed, cuts


def trimmed(
    listed: ListedPaper, notes: list[SkippedEntry] | None, source: str, entry: str, *, line: int | None = None
) -> ListedPaper:
    """``listed`` within the limits (its Hugging Face author slots cut as its author names are); a
    cut is named in ``notes`` (where the parser names the entries it skips) as that entry
    trimmed. With no list to name it in, the paper is cut all the same."""
    listed, cuts = listed_within_limits(listed)
    if cuts:
        note_cuts(notes, source, entry, cuts, line=line)
    return listed


def listed_within_limits(listed: ListedPaper) -> tuple[ListedPaper, list[str]]:
    """``within_limits`` of a listed paper, its author slots cut as its author names are (the same
    object when nothing is cut): for a parser that names the entry only once it knows a cut was
    made (finding an item's line costs a pass over the answer)."""
    paper, cuts = within_limits(listed.paper)
    if not cuts:
        return listed, cuts
    credits = listed.credits
    if credits is not None:
        slots = tuple(replace(slot, name=slot.name[:AUTHOR_CHARS]) for slot in credits.authors[:AUTHORS])
        credits = replace(credits, authors=slots)
    return replace(listed, paper=paper, credits=credits), cuts


def note_cuts(
    notes: list[SkippedEntry] | None, source: str, entry: str, cuts: list[str], *, line: int | None = None
) -> None:
    """Name what was cut of ``entry`` in ``notes`` as that entry trimmed (nowhere when None)."""
    if notes is not None:
        notes.append(SkippedEntry(source, entry, "; ".join(cuts), line, trimmed=True))
