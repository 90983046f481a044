"""RIS (Research Information Systems) for EndNote, Zotero, Mendeley.

Each record is ``TY  - ELEC`` (an online paper: it has a URL) or ``TY  - GEN``, then two-letter tags
(``TI``, one ``AU`` per author, ``PY``, ``DA``, ``AB``, ``UR``, ``AN`` for the arXiv id, one ``KW``
for the primary arXiv category and one per tag, ``N1`` for the member's note) and ``ER  -``, lines
ending in CR LF as the spec asks. Every value is one line: a title holding a line break cannot
start a tag of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.library import LibraryEntry
from bot.exports import paper_date
from bot.exports import plain as value

EOL = "\r\n"


def record(entry: LibraryEntry) -> list[str]:
    paper = entry.paper
    lines = [("TY", "ELEC" if paper.url else "GEN"), ("TI", value(paper.title))]
    lines += [("AU", value(name)) for name in paper.authors if value(name)]
    when = paper_date(paper)
    if when:
        lines += [("PY", str(when.year)), ("DA", f"{when.year:04d}/{when.month:02d}/{when.day:02d}/")]
    if paper.abstract.strip():
        lines.append(("AB", value(paper.abstract)))
    if paper.url:
        lines.append(("UR", value(paper.url)))
    if paper.arxiv_id:
        lines.append(("AN", f"arXiv:{paper.arxiv_id}"))
    # The arXiv category is a keyword (RIS has no field of its own for it), before the member's tags.
    keywords = [paper.primary_class] if paper.primary_class else []
    lines += [("KW", value(keyword)) for keyword in [*keywords, *entry.tags]]
    if entry.note:
        lines.append(("N1", value(entry.note)))
    lines.append(("ER", ""))
    return [f"{tag}  - {text}".rstrip() if tag == "ER" else f"{tag}  - {text}" for tag, text in lines]


def dumps(entries: Sequence[LibraryEntry]) -> str:
    return "".join(EOL.join(record(entry)) + EOL + EOL for entry in entries)
