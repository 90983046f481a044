"""Reads behind "more like this": term document counts and the ranked query over the full-text index."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.storage.connection import Connection
from bot.storage.pg_search import PgTextSearch

# Title and abstract; authors (column 3) left out: shared names are not a shared topic.
_SIMILAR_BM25 = "bm25(papers_fts, 2.0, 1.0, 0.0)"


class TermIndex:
    def __init__(self, connection: Connection) -> None:
        self._db = connection
        self._pg = PgTextSearch(connection) if connection.dialect.postgres else None

    async def doc_counts(self, terms: Sequence[str], *, cap: int) -> dict[str, int]:
        """How many papers hold each term in their title or abstract, counted no higher than ``cap``
        (a term at ``cap`` is too common to matter); a term no paper holds is left out. Read from
        the counts the ingest keeps (``term_docs``): one B-tree seek a term, where a
        probe of the full-text index walked the term's doclist through every segment. One statement
        for all terms."""
        if not terms:
            return {}
        sql = f"SELECT term, docs FROM term_docs WHERE term IN ({self._db.dialect.texts()})"
        async with self._db.execute(sql, (json.dumps(list(terms), ensure_ascii=False),)) as cursor:
            return {str(row[0]): min(int(row[1]), cap) for row in await cursor.fetchall()}

    async def size(self) -> int:
        """About how many papers there are: the highest pk (one index seek; count(*) reads the table,
        and papers are seldom deleted, so the two barely differ)."""
        async with self._db.execute("SELECT coalesce(max(pk), 0) FROM papers") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def ranked(
        self, fts_query: str, *, limit: int, exclude: Sequence[int], min_pk: int = 0
    ) -> list[tuple[int, float]]:
        """(pk, score) of the best BM25 matches over title and abstract from ``min_pk`` up, best first."""
        if self._pg is not None:
            return await self._pg.ranked_similar(fts_query, limit=limit, exclude=exclude, min_pk=min_pk)
        sql = (
            f"SELECT rowid, {_SIMILAR_BM25} AS score FROM papers_fts "
            f"WHERE papers_fts MATCH ? AND rowid >= ? AND rowid NOT IN ({self._db.dialect.ints()}) "
            "ORDER BY score LIMIT ?"
        )
        params = (fts_query, min_pk, json.dumps(list(exclude)), limit)
        async with self._db.execute(sql, params) as cursor:
            return [(int(row[0]), -float(row[1])) for row in await cursor.fetchall()]
