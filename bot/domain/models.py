"""The paper model and what parsers hand to storage."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from enum import StrEnum
from operator import attrgetter

from bot.domain import ids
from bot.domain.people import Credits
from bot.domain.text import title_key
from bot.domain.urls import web_url


class Source(StrEnum):
    HF_PAGE = "hf-page"
    HF_API = "hf-api"
    ARXIV_RSS = "arxiv-rss"
    ARXIV_ATOM = "arxiv-atom"
    SYNTHETIC = "synthetic"


# "The daily list" (digests, /papers today) is Hugging Face's; arXiv feeds add papers to search
# and to follow alerts, not to that list.
DAILY_LIST_SOURCES: tuple[str, ...] = (Source.HF_API, Source.HF_PAGE)


@dataclass(frozen=True, slots=True)
class Paper:
    """One paper, however many sources and lists it arrived through."""

    title: str
    abstract: str
    source: str
    arxiv_id: str | None = None
    authors: tuple[str, ...] = ()
    published: date | None = None
    first_listed: date | None = None
    hf_url: str | None = None
    code_url: str | None = None
    project_url: str | None = None
    thumbnail_url: str | None = None
    organization: str | None = None
    upvotes: int | None = None
    ai_summary: str | None = None
    ai_keywords: tuple[str, ...] = ()
    arxiv_version: int | None = None  # the newest arXiv version seen (arXiv feeds name it; HF does not)
    primary_class: str | None = None  # primary arXiv category, "cs.LG" (arXiv's Atom API names it)
    created_at: datetime | None = field(default=None, compare=False)
    updated_at: datetime | None = field(default=None, compare=False)
    # Derived once: dedup, ids and the vocabulary all need it, and folding is not free.
    title_key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "title_key", title_key(self.title))
        # Whatever a source or an old row holds, a Paper only carries links Discord accepts.
        for name in _LINK_FIELDS:
            value = getattr(self, name)
            if value is not None and web_url(value) != value:
                object.__setattr__(self, name, web_url(value))

    @property
    def id(self) -> str:
        return self.arxiv_id or ids.title_id_from_key(self.title_key)

    @property
    def abs_url(self) -> str | None:
        return ids.arxiv_abs_url(self.arxiv_id) if self.arxiv_id else None

    @property
    def pdf_url(self) -> str | None:
        return ids.arxiv_pdf_url(self.arxiv_id) if self.arxiv_id else None

    @property
    def url(self) -> str | None:
        """The best single link for the paper."""
        return self.abs_url or self.hf_url or self.project_url or self.code_url

    def content_hash(self) -> str:
        """Digest of everything a re-ingest could change; equal digests mean "unchanged"."""
        if _compiled_digest is not None:
            # Written in C where the extension was built, for about a fifth of the Python's cost
            # (docs/performance.md, "Tenth session: PostgreSQL ingest (row work in C)").
            return _compiled_digest(_content_of(self), _MEMBER_REPRS)
        return python_content_hash(self)


_LINK_FIELDS = ("hf_url", "code_url", "project_url", "thumbnail_url")
_CONTENT_FIELDS = tuple(
    f.name for f in fields(Paper) if f.name not in ("created_at", "updated_at", "title_key")
)
_content_of = attrgetter(*_CONTENT_FIELDS)  # the tuple of those values, in one call
_SOURCE = _CONTENT_FIELDS.index("source")


class _Written:
    """A value whose repr is the text given (a ``Source`` member's, made once)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


_SOURCE_REPRS = {member: _Written(repr(member)) for member in Source}


def python_content_hash(paper: Paper) -> str:
    """The digest of the repr of the paper's content values, the source's as an enum member: what
    every stored hash was made from (the compiled ``digest`` writes the same text)."""
    content = _content_of(paper)
    source = content[_SOURCE]
    if type(source) is Source:
        # Enum's __repr__ runs in Python (half the digest's cost): the member's text is written in
        # from a table instead.
        content = (*content[:_SOURCE], _SOURCE_REPRS[source], *content[_SOURCE + 1 :])
    return hashlib.blake2b(repr(content).encode("utf-8"), digest_size=16).hexdigest()


Digest = Callable[[tuple[object, ...], tuple[tuple[object, str], ...]], str]


def _compiled() -> Digest | None:
    try:
        from bot.domain._content_hash import digest
    except ImportError:  # not built (no C compiler where it was installed): the Python digest
        return None
    return digest


_compiled_digest = _compiled()
# Objects whose repr the compiled digest writes from this table (found by identity), as above.
_MEMBER_REPRS = tuple((member, repr(member)) for member in Source)


@dataclass(frozen=True, slots=True)
class Signals:
    """What the community made of a paper when a list was fetched: Hugging Face upvotes, comments
    on its discussion, stars of its GitHub repository (None: the source did not say)."""

    upvotes: int
    comments: int | None = None
    stars: int | None = None


@dataclass(frozen=True, slots=True)
class ListedPaper:
    """A paper as one source's daily list showed it: the list's date and the paper's rank on it,
    and (Hugging Face API) its counts at that moment, recorded as a momentum snapshot."""

    paper: Paper
    list_date: date | None = None
    rank: int | None = None
    signals: Signals | None = None
    credits: Credits | None = None  # claimed authors and organisation (Hugging Face API)


def merge(existing: Paper, incoming: Paper) -> Paper:
    """The stored paper after ``incoming`` arrives again.

    Sources differ in what they know (the page text has no arXiv id, the API has upvotes),
    so a known value is never replaced by an unknown one, and the earliest listing wins.
    """
    chosen: dict[str, object] = {}
    for name in _CONTENT_FIELDS:
        # The first source that brought a paper stays its source.
        if name in ("first_listed", "source"):
            continue
        new_value = getattr(incoming, name)
        if new_value not in (None, "", ()):
            chosen[name] = new_value
    listed = [d for d in (existing.first_listed, incoming.first_listed) if d is not None]
    chosen["first_listed"] = min(listed) if listed else None
    # A feed replaying an older version (an old query result) never takes a paper back.
    versions = [v for v in (existing.arxiv_version, incoming.arxiv_version) if v is not None]
    chosen["arxiv_version"] = max(versions) if versions else None
    return replace(existing, **chosen)  # type: ignore[arg-type]
