"""BibTeX for reference managers (Zotero, JabRef, biber).

Every entry is ``@misc`` with a Google-Scholar-style key (``vaswani2017attention``: first author's
family name, year, first significant title word, ASCII only) made unique with ``a``, ``b``... in
paper-id order, so the same export always yields the same keys. arXiv papers carry ``eprint``,
``archivePrefix = {arXiv}``, ``primaryClass`` when the category is known, and ``url``; others
``howpublished = {\\url{...}}``. URLs are percent-encoded (url fields are read verbatim); every
other value is braced with every LaTeX special character escaped, so no title can break the file
or inject commands. Names holding " and ", commas or special characters are braced so they stay
one author.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from urllib.parse import quote

from bot.domain.library import LibraryEntry
from bot.exports import paper_date, plain

# The longest family name or title word a citation key takes (the longest English words in titles,
# "interpretability", "generalization", are well within it).
KEY_PART_CHARS = 20
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_STOPWORDS = frozenset((
    "a", "an", "the", "of", "on", "in", "for", "to", "and", "or", "with", "without", "via", "from", "by",
    "at", "is", "are", "be", "as", "its", "towards", "toward", "do", "does", "can", "how", "what", "when",
    "why", "we", "you", "your", "our", "this", "that", "these", "those",
))  # fmt: skip
_SPECIALS = {
    "\\": r"\textbackslash{}",
    # BibTeX counts braces even after a backslash: \{ alone would unbalance the field.
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
}
_SPECIAL = re.compile(r"[\\{}$&#%_^~]")
_ASCII_WORD = re.compile(r"[a-z0-9]+")


def escape(text: str) -> str:
    """``text`` on one line with every LaTeX special character escaped (one pass: no double escapes)."""
    text = plain(text)
    return _SPECIAL.sub(lambda m: _SPECIALS[m.group(0)], text)


def _ascii_words(text: str) -> list[str]:
    # From the text the entry shows (escape sequences dropped whole), so a title's terminal colour
    # codes do not leave "31m" in its key.
    decomposed = unicodedata.normalize("NFKD", plain(text)).casefold()
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _ASCII_WORD.findall(bare)


def family_name(author: str) -> str:
    """The family name of ``Given Family`` or ``Family, Given``."""
    author = author.strip()
    if "," in author:
        return author.split(",", 1)[0]
    parts = author.split()
    return parts[-1] if parts else ""


def base_key(entry: LibraryEntry) -> str:
    """``vaswani2017attention``; the name and the word are cut to ``KEY_PART_CHARS`` each, so a
    400-letter "word" in a title or name still makes a key people can type (``citation_keys``
    keeps the cut keys unique)."""
    paper = entry.paper
    author = "".join(_ascii_words(family_name(paper.authors[0]))) if paper.authors else ""
    when = paper_date(paper)
    title_words = _ascii_words(paper.title)
    word = next((w for w in title_words if w not in _STOPWORDS), title_words[0] if title_words else "")
    year = str(when.year) if when else ""
    return (author[:KEY_PART_CHARS] or "anon") + year + (word[:KEY_PART_CHARS] or "paper")


def _suffix(index: int) -> str:
    """'', 'a', 'b', ... 'z', 'aa', 'ab', ...: the n-th duplicate's suffix."""
    out = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        out = chr(ord("a") + rest) + out
    return out


def citation_keys(entries: Sequence[LibraryEntry]) -> list[str]:
    """Unique keys in ``entries`` order; duplicates of one base get suffixes by paper id."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, entry in enumerate(entries):
        groups[base_key(entry)].append(index)
    keys = [""] * len(entries)
    taken = set(groups)
    for base, members in groups.items():
        members.sort(key=lambda i: entries[i].paper.id)
        n = 0
        for position, index in enumerate(members):
            key = base
            if position:
                # Skip a suffixed key that is another paper's base key ("smith2020a" + "a").
                n += 1
                while (key := base + _suffix(n)) in taken:
                    n += 1
                taken.add(key)
            keys[index] = key
    return keys


def url_value(url: str) -> str:
    """A URL as BibTeX reads it verbatim (url fields are not LaTeX): braces, backslashes, spaces and
    control characters percent-encoded so the value always stays balanced."""
    return quote(plain(url), safe=":/?&=#%+@,;~!$'()*[]-._")


def _author(name: str) -> str:
    escaped = escape(name)
    # " and " or a comma would split or reorder the name; an escaped special confuses name parsers.
    if re.search(r"\band\b", name, re.IGNORECASE) or "," in name or escaped != plain(name):
        return "{" + escaped + "}"
    return escaped


def entry_text(entry: LibraryEntry, key: str) -> str:
    paper = entry.paper
    fields: list[tuple[str, str]] = [("title", escape(paper.title))]
    authors = [name for name in paper.authors if plain(name)]
    if authors:
        fields.append(("author", " and ".join(_author(name) for name in authors)))
    when = paper_date(paper)
    if when:
        fields.append(("year", str(when.year)))
    if paper.arxiv_id:
        fields += [("eprint", escape(paper.arxiv_id)), ("archivePrefix", "arXiv")]
        if paper.primary_class:
            fields.append(("primaryClass", escape(paper.primary_class)))
    if paper.url:
        url = url_value(paper.url)
        fields.append(("url", url) if paper.arxiv_id else ("howpublished", "\\url{" + url + "}"))
        if not paper.arxiv_id:
            fields.append(("url", url))
    if paper.abstract.strip():
        fields.append(("abstract", escape(paper.abstract)))
    if entry.tags:
        fields.append(("keywords", escape(", ".join(entry.tags))))
    if entry.note:
        fields.append(("annote", escape(entry.note)))
    lines = [f"  {name} = {{{value}}}" for name, value in fields]
    if when:
        lines.insert(3 if authors else 2, f"  month = {MONTHS[when.month - 1]}")
    return f"@misc{{{key},\n" + ",\n".join(lines) + "\n}\n"


def dumps(entries: Sequence[LibraryEntry]) -> str:
    keys = citation_keys(entries)
    return "\n".join(entry_text(entry, key) for entry, key in zip(entries, keys, strict=True))
