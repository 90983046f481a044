"""What an ingest writes for each incoming paper: its row's values, its full-text index texts, its
title's words and, on PostgreSQL, its search document. None of it depends on what the batches before
stored. On SQLite the rows are made before the batch is placed (bot.domain.dedup); on PostgreSQL
each new paper's row is made inside the COPY stream that writes it (``copy_rows``), while the server
stores the rows before: made ahead of the write, the server sat idle while this process made them
(docs/performance.md, "Ninth session: PostgreSQL ingest (overlap)")."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from json.encoder import encode_basestring
from typing import TYPE_CHECKING

from bot.domain.dedup import Placement
from bot.domain.models import ListedPaper, Paper
from bot.domain.text import search_text, words
from bot.storage.database import authors_search_text
from bot.storage.pg_search import paper_document, paper_vectors

if TYPE_CHECKING:
    from bot.storage.pg_document import Tally

PAPER_FIELDS = (
    "id", "arxiv_id", "title_key", "title", "abstract", "authors", "published", "first_listed", "hf_url",
    "code_url", "project_url", "thumbnail_url", "organization", "upvotes", "ai_summary", "ai_keywords",
    "source", "content_hash", "updated_at", "arxiv_version", "primary_class",
)  # fmt: skip
_AUTHORS = PAPER_FIELDS.index("authors")
# Papers prepared between two yields to the event loop (about a millisecond of work): the running
# bot's other work (an interaction, a heartbeat) waits no longer than that beside a big ingest.
PREPARE_STEP = 32
# JSON lists of names and keywords as the columns hold them: json.dumps(ensure_ascii=False).
_JSON_LIST = json.JSONEncoder(ensure_ascii=False).encode


def json_list(items: Sequence[str]) -> str:
    """``json.dumps(list(items), ensure_ascii=False)``: for strs, each item as the encoder's own
    string function writes it, joined as it joins them (the encoder object the json module makes
    for every call cost twice the writing); anything else as json writes it."""
    try:
        return "[" + ", ".join(map(encode_basestring, items)) + "]"
    except TypeError:  # an item that is not a str
        return _JSON_LIST(list(items))


@dataclass(frozen=True, slots=True)
class PaperRow:
    """One paper's row as the SQLite ingest inserts it (PostgreSQL's are made in its COPY stream)."""

    values: tuple[object, ...]  # in PAPER_FIELDS order
    title_text: str  # what the full-text indexes are given (the *_INDEX_TEXT folding of bot.storage.papers)
    abstract_text: str
    authors_text: str
    title_terms: frozenset[str]  # the title's words as the index holds them


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """A batch of listed papers with, on SQLite, the row of each (``rows[i]`` is ``candidates[i]``'s);
    on PostgreSQL ``rows`` is None: the rows are made as the COPY streams them (``copy_rows``)."""

    listed: Sequence[ListedPaper]
    now: datetime
    stamp: str
    candidates: list[Paper]  # each listed paper with its first listing no later than its list's day
    rows: list[PaperRow] | None

    def row_of(self, placement: Placement) -> PaperRow:
        """The row of a placement to insert on SQLite: prepared already unless it merged several
        listed papers into a new one (the same paper twice in one batch), whose row is made now."""
        assert self.rows is not None, "PostgreSQL's rows are made in its COPY stream (copy_rows)"
        first = placement.members[0]
        if placement.paper is self.candidates[first]:
            return self.rows[first]
        return paper_row(placement.paper, self.stamp)


async def prepare(listed: Sequence[ListedPaper], now: datetime, *, postgres: bool) -> PreparedBatch:
    """``listed``'s rows (on SQLite), yielding to the event loop every PREPARE_STEP papers so that
    writes waiting on it go on meanwhile."""
    stamp = now.isoformat(timespec="seconds")
    if postgres:
        return PreparedBatch(listed, now, stamp, [with_listing(item) for item in listed], None)
    candidates: list[Paper] = []
    rows: list[PaperRow] = []
    for start in range(0, len(listed), PREPARE_STEP):
        if start:
            await asyncio.sleep(0)
        for item in listed[start : start + PREPARE_STEP]:
            paper = with_listing(item)
            candidates.append(paper)
            rows.append(paper_row(paper, stamp))
    return PreparedBatch(listed, now, stamp, candidates, rows)


def paper_row(paper: Paper, stamp: str) -> PaperRow:
    values = row_values(paper, stamp)
    return PaperRow(
        values,
        title_index_text(paper),
        search_text(paper.abstract),
        authors_search_text(str(values[_AUTHORS])),
        title_terms(paper),
    )


def copy_rows(
    papers: Sequence[Paper],
    pks: Sequence[int],
    stamp: str,
    title_counts: Counter[str],
    left_out: list[tuple[object, ...]],
    word_tally: Tally | None = None,
) -> Iterator[tuple[object, ...]]:
    """The PostgreSQL rows of new papers as COPY takes them (``pk``, PAPER_FIELDS, ``created_at``,
    ``search``), the search vector in binary (``paper_vectors``), each made when the stream asks
    for it, so this process makes paper k+1's row while the server stores paper k's; the papers'
    title words are added to ``title_counts`` when the stream has taken the last row.
    A paper with no binary vector (past position 16383 or tsvector's size, where migration 0042's
    document is written as text) is not streamed: its row, with the document's text, goes to
    ``left_out``, to be inserted with it after the stream. ``word_tally``: the papers' title and
    abstract words are counted into it as their vectors are built (``paper_vectors``)."""
    terms: list[str] = []
    # Built a block ahead on a worker thread (``paper_vectors``), while this thread makes the rows.
    for pk, paper, vector in zip(pks, papers, paper_vectors(papers, word_tally), strict=True):
        terms += title_terms(paper)
        if vector is None:
            left_out.append((pk, *row_values(paper, stamp), stamp, paper_document(paper)))
        else:
            yield (pk, *row_values(paper, stamp), stamp, vector)
    # Counted in one call once the stream has taken the last row: Counter.update's own work
    # (its type checks, a call) cost more a paper than counting the words.
    title_counts.update(terms)


def index_texts(paper: Paper) -> tuple[str, str]:
    """The (title, abstract) texts the full-text indexes are given (and the word counts are made of)."""
    return title_index_text(paper), search_text(paper.abstract)


def row_values(paper: Paper, now: str) -> tuple[object, ...]:
    """Values in ``PAPER_FIELDS`` order."""
    return (
        paper.id,
        paper.arxiv_id,
        paper.title_key,
        paper.title,
        paper.abstract,
        json_list(paper.authors),
        _iso(paper.published),
        _iso(paper.first_listed),
        paper.hf_url,
        paper.code_url,
        paper.project_url,
        paper.thumbnail_url,
        paper.organization,
        paper.upvotes,
        paper.ai_summary,
        json_list(paper.ai_keywords),
        paper.source,
        paper.content_hash(),
        now,
        paper.arxiv_version,
        paper.primary_class,
    )


def title_index_text(paper: Paper) -> str:
    """What TITLE_INDEX_TEXT makes of the row, from the paper in hand (ingest writes the index
    rows from its values instead of reading the new rows back)."""
    return paper.title_key if paper.title.isascii() else search_text(paper.title)


def title_terms(paper: Paper) -> frozenset[str]:
    """The title's words as the index holds them (the vocabulary corrects and completes against them)."""
    return frozenset(paper.title_key.split() if paper.title_key.isascii() else words(paper.title))


def with_listing(item: ListedPaper) -> Paper:
    """The paper with its first listing no later than the list it arrived on."""
    paper = item.paper
    if item.list_date and (paper.first_listed is None or item.list_date < paper.first_listed):
        return replace(paper, first_listed=item.list_date)
    return paper


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
