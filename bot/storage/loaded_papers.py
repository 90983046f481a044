"""The papers a cold load has written so far, by id and title key: its dedup look-up without asking
the server.

In a cold load (bot.storage.pg_bulk) the store held no paper when the load began, so every stored
paper that could be the same as an incoming one is a row this load wrote, and the load knows each
row's values: they are the values it sent. Asking the server cost about 4 us of its CPU a paper
(an index probe per id and title key of every batch, then the row), and reading nothing from the
papers' id, arxiv_id and title_key indexes lets the load build them once at the end instead of
inserting into them row by row (docs/performance.md, "Eighth session: PostgreSQL ingest (server,
cold load)"). The unique constraints, added back at the end, still refuse a paper stored twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.storage.paper_rows import PAPER_FIELDS

_ID = PAPER_FIELDS.index("id")
_TITLE_KEY = PAPER_FIELDS.index("title_key")
_COLUMNS = ("pk", *PAPER_FIELDS, "created_at")


class LoadedPapers:
    """Each written row's values (in PAPER_FIELDS order) and created_at, as the server stores them."""

    def __init__(self) -> None:
        self._rows: dict[int, tuple[Sequence[object], str]] = {}
        self._pk_of_id: dict[str, int] = {}
        # Most title keys belong to one paper; two arXiv papers may share one.
        self._pks_of_key: dict[str, tuple[int, ...]] = {}

    def inserted(self, rows: Iterable[tuple[int, Sequence[object]]], created_at: str) -> None:
        """Rows written with these pks and values."""
        for pk, values in rows:
            self._rows[pk] = (values, created_at)
            self._pk_of_id[str(values[_ID])] = pk
            key = str(values[_TITLE_KEY])
            self._pks_of_key[key] = (*self._pks_of_key.get(key, ()), pk)

    def updated(self, pk: int, values: Sequence[object]) -> None:
        """Row ``pk`` rewritten with these values (a merge may change its id and its title key)."""
        before, created_at = self._rows[pk]
        if self._pk_of_id.get(str(before[_ID])) == pk:
            del self._pk_of_id[str(before[_ID])]
        old_key = str(before[_TITLE_KEY])
        others = tuple(other for other in self._pks_of_key[old_key] if other != pk)
        if others:
            self._pks_of_key[old_key] = others
        else:
            del self._pks_of_key[old_key]
        self.inserted([(pk, values)], created_at)

    def matching(self, ids: Iterable[str], keys: Iterable[str]) -> list[dict[str, object]]:
        """The rows with one of these ids or one of these title keys, by pk, column by column as
        the server would give them: what the look-up statement finds in a store holding only them."""
        pks = {self._pk_of_id[paper_id] for paper_id in ids if paper_id in self._pk_of_id}
        for key in keys:
            pks.update(self._pks_of_key.get(key, ()))
        return [self._row(pk) for pk in sorted(pks)]

    def _row(self, pk: int) -> dict[str, object]:
        values, created_at = self._rows[pk]
        # Text as the server gives it back: a value sent as a str subclass (the source, a StrEnum)
        # reads back as plain text, and the content hash of a merge differs by that repr.
        read = (str(value) if isinstance(value, str) else value for value in values)
        return dict(zip(_COLUMNS, (pk, *read, created_at), strict=True))
