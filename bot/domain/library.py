"""A member's library: saved papers, read marks, tags and notes. Rules only, no I/O."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.models import Paper
from bot.domain.text import clean_line, strip_invisible
from bot.errors import InvalidInput

MAX_SAVED = 5000
MAX_TAGS = 10
MAX_TAG_CHARS = 32
MAX_NOTE_CHARS = 500
_TAG_SPLIT = re.compile(r"[,\s]+")


class ReadFilter(StrEnum):
    UNREAD = "unread"
    READ = "read"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class LibraryEntry:
    paper_pk: int
    paper: Paper
    saved_at: datetime
    read_at: datetime | None = None
    tags: tuple[str, ...] = ()
    note: str | None = None

    @property
    def read(self) -> bool:
        return self.read_at is not None


def tag_form(text: str) -> str:
    """The one form of a tag: lower case with the letters as typed (``ÄÖÜ`` -> ``äöü``, not
    ``aou``: people read their tags back), composed (NFKC, so a decomposed Ä is still ä), and
    only letters, digits, marks, ``_``, ``.``, ``+`` and ``-`` (a tag is a word: ``#`` or ``@`` in
    front of it, as in ``@everyone``, is no part of it)."""
    typed = unicodedata.normalize("NFKC", strip_invisible(text)).lower()
    # Marks too: Devanagari's vowel signs, for one, are letters' parts but not word characters.
    return "".join(ch for ch in typed if ch.isalnum() or ch in "_.+-" or unicodedata.category(ch)[0] == "M")


def parse_tags(text: str) -> tuple[str, ...]:
    """Tags from ``"ml, to-read #survey"``: in ``tag_form``, deduplicated, order kept.

    An empty text clears the tags; too many or too long tags are refused rather than cut."""
    tags: list[str] = []
    for raw in _TAG_SPLIT.split(text):
        tag = tag_form(raw)
        if not tag:
            continue
        if len(tag) > MAX_TAG_CHARS:
            raise InvalidInput(f"Tags can be at most {MAX_TAG_CHARS} characters: “{tag[:40]}…” is longer.")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"A paper can have at most {MAX_TAGS} tags; you gave {len(tags)}.")
    return tuple(tags)


def parse_tag(text: str) -> str:
    """One tag to filter by, in the form tags are stored in."""
    tags = parse_tags(text)
    if len(tags) != 1:
        raise InvalidInput("Filter by one tag, like `survey`.")
    return tags[0]


def parse_note(text: str) -> str | None:
    """A note on one line, at most ``MAX_NOTE_CHARS``; an empty note clears it."""
    note = clean_line(text)
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(f"Notes can be at most {MAX_NOTE_CHARS} characters; yours has {len(note)}.")
    return note or None
