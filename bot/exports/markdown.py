"""Markdown reading list: one bullet per paper with its link, authors, date, read mark, tags, note.

A file, not a Discord message: markdown is escaped so text shows as typed, but mentions are not
broken up (nothing in a file pings anyone).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.layout import byline, escape_markdown, md_link, short_authors
from bot.domain.library import LibraryEntry
from bot.exports import paper_date, plain


def line(entry: LibraryEntry) -> str:
    paper = entry.paper
    when = paper_date(paper)
    mark = "[x]" if entry.read else "[ ]"
    title = md_link(escape_markdown(plain(paper.title)), paper.url)
    meta = byline(
        escape_markdown(plain(short_authors(paper.authors, keep=3, limit=200))),
        when.isoformat() if when else "",
        " ".join(f"`#{tag.replace('`', '')}`" for tag in entry.tags),
    )
    text = f"- {mark} {title}" + (f" — {meta}" if meta else "")
    if entry.note:
        text += f"\n  > {escape_markdown(plain(entry.note))}"
    return text


def dumps(entries: Sequence[LibraryEntry]) -> str:
    return "# My paperbot library\n\n" + "\n".join(line(entry) for entry in entries) + "\n"
