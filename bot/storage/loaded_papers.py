"""The papers a cold load has written so far, by id and title key: its dedup look-up without asking
the server.

In a cold load (bot.storage.pg_bulk) the store held no paper when the load began, so every stored
paper that could be the same as an incoming one is a row this load wrote, and the load knows each
row's id and title key: it sent them. Asking the server which rows hold a batch's ids and title
keys cost about 4 us of its CPU a paper (an index probe per id and key of every batch), and
reading nothing through the papers' id, arxiv_id and title_key indexes lets the load build them
once at the end instead of inserting into them row by row (docs/performance.md, "Eighth session:
PostgreSQL ingest (server, cold load)"). The unique constraints, added back at the end, still
refuse a paper stored twice.

The rows found (a paper arriving again in a later batch of the load, or a title key shared) are
not read back from the server either: each is made from the paper the load wrote, as
``paper_from_row`` would read it back (``stored``). A read waited for the server to finish the COPY
before, and 49 of the 50 batches of the bench's 100,000 papers share a title key with an earlier
one (docs/performance.md, "Twelfth session: PostgreSQL ingest (tails)"). Only references are kept:
the papers stay alive for the whole load anyway (the ingest's counts hold each inserted paper for
its hooks). Keeping every row's values instead cost this process more than the look-up saved
(100,000 long-lived tuples for the collector to walk).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from bot.domain.ids import is_title_id
from bot.domain.models import Paper


class LoadedPapers:
    """The pk of each id and the pks of each title key among the rows the load wrote."""

    def __init__(self) -> None:
        self._pk_of_id: dict[str, int] = {}
        self._pk_of_key: dict[str, int] = {}  # the first row with each title key
        # Later rows with a title key an earlier row has (two arXiv papers of one title: rare), so
        # the common case costs two dictionary stores a paper.
        self._more_of_key: dict[str, list[int]] = {}
        # The rows whose id is an arXiv id (not a title's): ``matching`` keeps two of a title's.
        self._tagged: set[int] = set()
        # Each row's paper as written (its stamp by pk range: a batch's first pk and its stamp), or,
        # for a row updated since, as stored.
        self._written: dict[int, Paper] = {}
        self._first_pks: list[int] = []
        self._stamps: list[str] = []
        self._updated: dict[int, Paper] = {}
        # Rows made as read back once, not again each batch that matches them (a title key shared
        # by many rows is matched by batch after batch: at a million bench papers, making them anew
        # with ``dataclasses.replace`` was a seventh of the event loop's time).
        self._as_read: dict[int, Paper] = {}

    def inserted(self, rows: Iterable[tuple[int, str, str]]) -> None:
        """Rows written with these (pk, id, title key)."""
        pk_of_id, pk_of_key = self._pk_of_id, self._pk_of_key
        tagged = self._tagged
        for pk, paper_id, title_key in rows:
            pk_of_id[paper_id] = pk
            if not is_title_id(paper_id):
                tagged.add(pk)
            if pk_of_key.setdefault(title_key, pk) != pk:  # inline _add_key: once a paper
                self._more_of_key.setdefault(title_key, []).append(pk)

    def written(self, pks: Sequence[int], papers: Sequence[Paper], stamp: str) -> None:
        """New rows ``pks`` (ascending, above every row before) hold ``papers``, created at ``stamp``."""
        if pks:
            self._written.update(zip(pks, papers, strict=True))
            self._first_pks.append(pks[0])
            self._stamps.append(stamp)

    def updated(self, pk: int, paper: Paper, stamp: str) -> None:
        """Row ``pk`` was rewritten with ``paper``'s values at ``stamp`` (its creation time kept)."""
        created = self.stored(pk).created_at
        self._updated[pk] = _as_stored(paper, created, datetime.fromisoformat(stamp))

    def stored(self, pk: int) -> Paper:
        """Row ``pk``'s paper as ``paper_from_row`` reads it back: the values the row was written
        with (a ``Source`` member is stored as its text), the row's creation and update times."""
        if (paper := self._updated.get(pk)) is not None:
            return paper
        if (paper := self._as_read.get(pk)) is None:
            made = datetime.fromisoformat(self._stamps[bisect_right(self._first_pks, pk) - 1])
            paper = self._as_read[pk] = _as_stored(self._written[pk], made, made)
        return paper

    def rewritten(self, pk: int, before: tuple[str, str], after: tuple[str, str]) -> None:
        """Row ``pk``'s (id, title key) went from ``before`` to ``after`` (a merge may change both)."""
        if before == after:
            return
        old_id, old_key = before
        if self._pk_of_id.get(old_id) == pk:
            del self._pk_of_id[old_id]
        others = [other for other in self._pks_of(old_key) if other != pk]
        self._pk_of_key.pop(old_key, None)
        self._more_of_key.pop(old_key, None)
        for other in others:
            self._add_key(old_key, other)
        new_id, new_key = after
        self._pk_of_id[new_id] = pk
        if is_title_id(new_id):
            self._tagged.discard(pk)
        else:
            self._tagged.add(pk)
        self._add_key(new_key, pk)

    def matching(self, ids: Iterable[str], keys: Iterable[str]) -> list[int]:
        """The pks, ascending, of the rows with one of these ids, and of those with one of these
        title keys that can change where a paper goes (``bot.domain.dedup.place`` places a batch
        against them as against every row the look-up statement would find): each untagged row of
        the key, and its first two arXiv rows. Rule 3 only asks whether exactly one arXiv paper
        carries a title; a third arXiv row of it, not matched by id, changes no placement. Where a
        title is shared by many papers (the bench corpus's titles come from templates), every batch
        placed against all of them cost time growing with the store: at a million papers the
        look-up and ``place`` were half of the event loop's time in the load."""
        pks = {self._pk_of_id[paper_id] for paper_id in ids if paper_id in self._pk_of_id}
        by_id = frozenset(pks)
        for key in keys:
            tagged = 0
            for pk in self._pks_of(key):
                if pk in by_id:
                    continue
                if pk in self._tagged:
                    if tagged == 2:
                        continue
                    tagged += 1
                pks.add(pk)
        return sorted(pks)

    def _pks_of(self, title_key: str) -> list[int]:
        first = self._pk_of_key.get(title_key)
        return [] if first is None else [first, *self._more_of_key.get(title_key, ())]

    def _add_key(self, title_key: str, pk: int) -> None:
        if self._pk_of_key.setdefault(title_key, pk) != pk:
            self._more_of_key.setdefault(title_key, []).append(pk)


def _as_stored(paper: Paper, created: datetime | None, updated: datetime) -> Paper:
    # str() of a str subclass (a Source member, a StrEnum) is the plain text the column holds.
    return replace(paper, source=str(paper.source), created_at=created, updated_at=updated)
