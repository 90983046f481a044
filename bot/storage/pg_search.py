"""The PostgreSQL side of the paper repository's full-text search: a weighted ``tsvector`` column
with a GIN index (migration 0001's PostgreSQL file), queried with ``tsquery`` literals translated
from the project's safe FTS5 text (``bot.domain.tsquery``) and ranked with ``ts_rank_cd``.

A query outside that grammar matches nothing rather than reaching PostgreSQL as syntax.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.domain.models import Paper
from bot.domain.text import folded_words, words
from bot.domain.tsquery import UnsafeQuery, to_tsquery
from bot.storage.connection import Connection

# Autocomplete's title-only matches come from title_search (migration 0024): each row holds only a
# title's words (weight A, as in the search column), so the default weights rank them as before.
TITLE_RANK = "ts_rank_cd(words, ?::tsquery)"
# "More like this" ranks title and abstract only (authors weigh nothing), as SQLite's bm25(2, 1, 0).
SIMILAR_RANK = "ts_rank_cd('{0, 0, 0.5, 1.0}'::float4[], search, ?::tsquery)"


# How many of the newest papers the newest-first walk tests first (about 1.5 ms of server CPU): what
# it finds there says whether walking on passes fewer rows than the GIN bitmap has matches (0030),
# or how far back the bitmap should look. A 20,000-row probe cost a rare word, which the planner
# finds through the bitmap in 0.3 ms anyway, 15 ms.
WINDOW_PROBE_ROWS = 2_000
# Counting on down the newest-first walk costs about 0.6 µs of server CPU a row passed, the GIN
# bitmap about as much a match in all: past this many rows the bitmap is the cheaper way to the cap.
COUNT_BY_WALK_ROWS = 30_000


def folded_columns(paper: Paper) -> tuple[str, str, str]:
    """What ``paperbot_document`` builds the search column from: the folded words of each column
    (an ASCII title's are its title key, folded once when the paper was made; a key keeps Han and
    kana runs whole where the index holds their characters, so such a title is folded anew)."""
    title = paper.title_key if paper.title.isascii() else folded_words(paper.title)
    return title, folded_words(paper.abstract), folded_words(" ".join(paper.authors))


# tsvector's limits, as paperbot_document (migration 0001) applies them: positions stop at 16383,
# longer lexemes are left out.
_MAX_POSITION = 16383
_MAX_LEXEME_BYTES = 2046


def search_document(title: str, abstract: str, authors: str) -> str:
    """The ``tsvector`` text of ``paperbot_document(title, abstract, authors)`` (folded words joined
    by spaces, as ``folded_columns`` gives them), built here: the server then only reads it, where
    building it (split, unnest, aggregate, read) was half of the server's time per ingested paper.
    Each word at its position, title A, abstract B, authors C, one position apart between columns,
    and the title's first word once more as '^word'. tests/storage/test_ingest_equivalence.py
    checks the two agree."""
    return _document(
        [
            title.split(" ") if title else [],
            abstract.split(" ") if abstract else [],
            authors.split(" ") if authors else [],
        ],
        plain=not any("'" in text or "\\" in text for text in (title, abstract, authors)),
    )


def paper_document(paper: Paper) -> str:
    """``search_document(*folded_columns(paper))``, from the folded words without joining them into
    text and splitting that again (the ingest builds one per paper)."""
    title = paper.title_key.split() if paper.title.isascii() else words(paper.title)
    # Folded words are runs of word characters: never empty, never a quote or a backslash.
    return _document([title, words(paper.abstract), words(" ".join(paper.authors))], plain=True)


def _document(columns: list[list[str]], *, plain: bool) -> str:
    """The document of the title's, abstract's and authors' words (``plain``: none is empty or
    holds a quote or a backslash, so none needs leaving out or escaping)."""
    title_words, abstract_words, author_words = columns
    parts = [
        _lexemes(title_words, 1, "A", plain),
        _lexemes(abstract_words, len(title_words) + 2, "B", plain),
        _lexemes(author_words, len(title_words) + len(abstract_words) + 3, "C", plain),
    ]
    if title_words:
        parts.append(_lexemes(["^" + title_words[0]], 1, "A", plain))
    return " ".join(part for part in parts if part)


def _suffixes(weight: str, then: str) -> list[str]:
    return [f"':{position}{weight}{then}" for position in range(_MAX_POSITION + 1)]


# "':<position><weight>" for every position up to the cap, followed by the next lexeme's space and
# quote (or not, for a column's last word): a column's lexemes are its words and these, interleaved
# and joined once in C (an f-string per word was the largest part of building a document).
_BETWEEN = {weight: _suffixes(weight, " '") for weight in "ABC"}
_LAST = {weight: _suffixes(weight, "") for weight in "ABC"}


def _lexemes(words: list[str], first: int, weight: str, plain: bool) -> str:
    """``'word':position weight`` for each of the words, numbered from ``first``."""
    if not words:
        return ""
    if (
        plain
        and first + len(words) - 1 <= _MAX_POSITION
        and max(map(len, words)) * 4 <= _MAX_LEXEME_BYTES
        and "" not in words
    ):
        # Every column of a real paper: short words, nothing to cap, leave out or escape (the
        # general case below costs more than twice as much a word).
        last = first + len(words) - 1
        parts = ["'"] * (2 * len(words) + 1)
        parts[1::2] = words
        parts[2::2] = _BETWEEN[weight][first : last + 1]
        parts[-1] = _LAST[weight][last]
        return "".join(parts)
    return " ".join(
        [
            f"'{_quoted(word)}':{min(position, _MAX_POSITION)}{weight}"
            for position, word in enumerate(words, first)
            if word and (len(word) * 4 <= _MAX_LEXEME_BYTES or len(word.encode()) <= _MAX_LEXEME_BYTES)
        ]
    )


def _quoted(word: str) -> str:
    # Folded words are letters and digits; the escapes only keep any other text literal.
    if "'" in word or "\\" in word:
        return word.replace("\\", "\\\\").replace("'", "''")
    return word


def rank_weights(weights: tuple[float, float, float]) -> list[float]:
    """ts_rank_cd's {D, C, B, A} (unused, authors, abstract, title) from bm25()'s (title, abstract,
    authors), scaled into 0..1 as PostgreSQL requires."""
    title, abstract, authors = weights
    top = max(title, abstract, authors) or 1.0
    return [0.0, authors / top, abstract / top, title / top]


def tsquery(fts_query: str) -> str | None:
    """The tsquery literal, or None for text outside the safe grammar (it then matches nothing)."""
    try:
        return to_tsquery(fts_query)
    except UnsafeQuery:
        return None


class PgTextSearch:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def match(
        self, fts_query: str, *, weights: tuple[float, float, float], limit: int, min_pk: int
    ) -> list[tuple[int, float]]:
        """Best ``ts_rank_cd`` matches, the columns weighted as bm25()'s (title, abstract, authors)."""
        query = tsquery(fts_query)
        if query is None:
            return []
        sql = (
            "SELECT pk, ts_rank_cd(?::float4[], search, ?::tsquery) AS score FROM papers "
            "WHERE search @@ ?::tsquery AND pk >= ? ORDER BY score DESC, pk DESC LIMIT ?"
        )
        async with self._db.execute(sql, (rank_weights(weights), query, query, min_pk, limit)) as cursor:
            return [(int(row[0]), float(row[1])) for row in await cursor.fetchall()]

    async def count(self, fts_query: str, *, cap: int) -> int:
        query = tsquery(fts_query)
        return 0 if query is None else await self._capped_count(query, cap)

    async def match_titles(self, fts_query: str, *, limit: int, min_pk: int | None) -> list[int]:
        # The title table holds title words only: the query needs no weight, and the GIN index
        # answers it exactly (no row's vector read to test a weight).
        query = tsquery(fts_query)
        if query is None:
            return []
        if min_pk is None:
            sql = "SELECT pk FROM title_search WHERE words @@ ?::tsquery ORDER BY pk DESC LIMIT ?"
            params: tuple[object, ...] = (query, limit)
        else:
            sql = (
                f"SELECT pk FROM title_search WHERE words @@ ?::tsquery AND pk >= ? "
                f"ORDER BY {TITLE_RANK} DESC, pk DESC LIMIT ?"
            )
            params = (query, min_pk, query, limit)
        async with self._db.execute(sql, params) as cursor:
            return [int(row[0]) for row in await cursor.fetchall()]

    async def window_floor(self, fts_query: str, cap: int, *, titles_only: bool) -> int:
        query = tsquery(fts_query)
        if query is None:
            return 0
        table, column = ("title_search", "words") if titles_only else ("papers", "search")
        sql = f"SELECT pk FROM {table} WHERE {column} @@ ?::tsquery ORDER BY pk DESC LIMIT 1 OFFSET ?"
        async with self._db.execute(sql, (query, cap)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def window(self, fts_query: str, cap: int, *, count_cap: int) -> tuple[int, int]:
        """(the pk of the ``cap + 1``-th newest match or 0 when no more match, how many match up
        to ``count_cap``): the newest matches found (migration 0025's paperbot_newest_window: a
        newest-first walk of the newest papers, else the GIN bitmap of as many as should hold the
        window), then the count continued from there.

        A word in a quarter of the papers reaches its count cap a few thousand rows further down
        the same walk, where counting through the GIN bitmap first builds the bitmap of every
        match (629,000 for ``data`` at a million papers: 110 ms of server CPU against 5 ms). A
        rarer word, whose walk to the cap would test many rows for each match, is counted through
        the bitmap (migration 0023)."""
        query = tsquery(fts_query)
        if query is None:
            return 0, 0
        if "<->" in query:
            # A phrase is not exact in the GIN index (each candidate's positions are read again),
            # so its bitmap costs what a walk does: the planner's own choice did best.
            sql = (
                "SELECT count(*), min(pk), max(pk) FROM (SELECT pk FROM papers "
                "WHERE search @@ ?::tsquery ORDER BY pk DESC LIMIT ?) AS newest"
            )
            params: tuple[object, ...] = (query, cap + 1)
        else:
            sql = "SELECT counted, oldest, newest FROM paperbot_newest_window(?::tsquery, ?, ?)"
            params = (query, cap + 1, WINDOW_PROBE_ROWS)
        async with self._db.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        counted, floor, newest = (int(row[0]), int(row[1] or 0), int(row[2] or 0)) if row else (0, 0, 0)
        if counted <= cap:
            return 0, min(counted, count_cap)
        if counted >= count_cap:
            return floor, count_cap
        # The rows the walk passed per match so far (pks are dense: the table is appended to).
        rows_per_match = (newest - floor + 1) / counted
        if (count_cap - counted) * rows_per_match <= COUNT_BY_WALK_ROWS:
            sql = "SELECT paperbot_count_below(?::tsquery, ?, ?)"
            async with self._db.execute(sql, (query, floor, count_cap - counted)) as cursor:
                below = await cursor.fetchone()
            return floor, counted + (int(below[0]) if below else 0)
        return floor, await self._capped_count(query, count_cap)

    async def holds(self, term: str) -> bool:
        query = tsquery('"' + term.replace('"', '""') + '"')
        if query is None:
            return False
        async with self._db.execute(
            "SELECT 1 FROM papers WHERE search @@ ?::tsquery LIMIT 1", (query,)
        ) as cursor:
            return await cursor.fetchone() is not None

    async def random_pk(self, fts_query: str) -> int | None:
        query = tsquery(fts_query)
        if query is None:
            return None
        sql = "SELECT pk FROM papers WHERE search @@ ?::tsquery ORDER BY random() LIMIT 1"
        async with self._db.execute(sql, (query,)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else None

    async def _capped_count(self, query: str, cap: int) -> int:
        # Through the GIN bitmap, not a scan testing every row it passes (migration 0023).
        sql = "SELECT paperbot_capped_count(?::tsquery, ?)"
        async with self._db.execute(sql, (query, cap)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def ranked_similar(
        self, fts_query: str, *, limit: int, exclude: Sequence[int], min_pk: int
    ) -> list[tuple[int, float]]:
        query = tsquery(fts_query)
        if query is None:
            return []
        sql = (
            f"SELECT pk, {SIMILAR_RANK} AS score FROM papers WHERE search @@ ?::tsquery AND pk >= ? "
            f"AND pk NOT IN ({self._db.dialect.ints()}) ORDER BY score DESC, pk DESC LIMIT ?"
        )
        params = (query, query, min_pk, json.dumps(list(exclude)), limit)
        async with self._db.execute(sql, params) as cursor:
            return [(int(row[0]), float(row[1])) for row in await cursor.fetchall()]
