"""The PostgreSQL side of the paper repository's full-text search: a weighted ``tsvector`` column
with a GIN index (migration 0001's PostgreSQL file), queried with ``tsquery`` literals translated
from the project's safe FTS5 text (``bot.domain.tsquery``) and ranked with ``ts_rank_cd``.

A query outside that grammar matches nothing rather than reaching PostgreSQL as syntax.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from operator import add

from bot.domain.models import Paper
from bot.domain.people import name_words
from bot.domain.text import folded_words, words
from bot.domain.tsquery import UnsafeQuery, to_tsquery
from bot.storage import pg_document
from bot.storage.connection import Connection
from bot.storage.pg_document import MAX_VECTOR_BYTES, build_document, build_vector, capped_document

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
# Counting on down the newest-first walk costs about 0.75 µs of server CPU a row passed; through the
# GIN bitmap, about 0.45 µs a match in all (the bitmap of every match is built before the first is
# counted): a row walked costs this many matches of the bitmap. Measured at a million papers:
# `neural & code` (in 18%) 30 ms walked against 86 through the bitmap, `text & to & image` (8%)
# 85 against 47.
WALKED_ROW_COST = 1.7
# A query of one word, or of words any of which will do, as bot.domain.query writes them, each
# word plain ASCII (``_held_by_at_least``).
_ANY_PLAIN_WORD = re.compile(r'"[0-9a-z]+"(?: OR "[0-9a-z]+")*')


@dataclass(frozen=True, slots=True)
class RankedWindow:
    """A query's window ranked (``PgTextSearch.ranked_window``): where it starts (``floor``, 0 when
    every match is in it), how many match up to the count cap, and its best (pk, rank) pairs, by
    the phrase and by the query itself."""

    floor: int
    total: int
    phrased: list[tuple[int, float]]
    ranked: list[tuple[int, float]]


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
    text and splitting that again: each lexeme once with all its positions
    (``bot.storage.pg_document``), ASCII abstracts and author lists split there too; the server
    reads it into the same vector as the one-lexeme-a-position text, for less of its CPU."""
    columns = _document_columns(paper)
    merged = build_document(*columns)
    if merged is not None:
        return merged
    # Past position 16383 or tsvector's size (the builders' None) ``_document`` writes migration
    # 0042's document. Folded words are runs of word characters: never empty, never a quote or a
    # backslash.
    title, abstract, authors = columns
    return _document(
        [title, *(words(c) if isinstance(c, str) else c for c in (abstract, authors))], plain=True
    )


def paper_vector(paper: Paper) -> bytes | None:
    """The vector of ``paper_document`` as ``tsvectorsend`` writes it, for COPY's binary format
    (``tsvectorrecv`` reads it for about a twentieth of ``tsvectorin``'s CPU); None past position
    16383 or tsvector's size, where ``paper_document``'s text is sent instead."""
    return build_vector(*_document_columns(paper))


# Papers a call of the worker thread builds the vectors of: it gives the GIL back to the event
# loop's thread while it sorts and writes them, and takes it again only to read the words and to
# make the bytes, once a block (a thread taking it back after every paper waits for the holder to
# let go, up to the 5 ms switch interval each time). 128 costs no more a paper than one at a time.
VECTOR_BLOCK = 128


@functools.cache
def _vector_worker() -> ThreadPoolExecutor:
    """The one thread that builds vectors ahead, started by the first ingest that needs it."""
    return ThreadPoolExecutor(1, thread_name_prefix="search-vectors")


def paper_vectors(papers: Sequence[Paper], tally: pg_document.Tally | None = None) -> Iterator[bytes | None]:
    """``paper_vector`` of each paper in turn. Where the builder is compiled, a worker thread
    builds them a block ahead, without the GIL, while the caller makes the rows of the block before
    (a second core for the COPY stream's largest piece); else each is built as it is asked for.
    ``tally`` (only where compiled, ``pg_document.new_tally``): each paper's distinct title and
    abstract words are counted into it as its vector is built, once the stream has taken the
    paper's block."""
    if pg_document.block_vectors is None:
        assert tally is None, "a word tally is counted by the compiled builder only"
        return map(paper_vector, papers)
    return _built_ahead(pg_document.block_vectors, papers, tally)


def word_tally() -> pg_document.Tally | None:
    """A new word tally for ``paper_vectors`` to count into, where the vectors are built by the
    compiled block builder; None where they are not (the words are then counted by
    bot.storage.word_counts)."""
    if pg_document.block_vectors is None or pg_document.new_tally is None:
        return None
    return pg_document.new_tally()


def _built_ahead(
    build: pg_document.BlockBuilder, papers: Sequence[Paper], tally: pg_document.Tally | None
) -> Iterator[bytes | None]:
    worker = _vector_worker()
    blocks = [papers[at : at + VECTOR_BLOCK] for at in range(0, len(papers), VECTOR_BLOCK)]
    # Every block but the first to the worker, then the first built here: the event loop's thread
    # had waited for the worker's first block (15 ms a batch under load), while the worker, queued
    # ahead, falls behind less than one kept a block ahead (under load 9 those waited 2.3-3.5 s in all).
    ahead = [
        worker.submit(build, [_document_columns(paper) for paper in block], tally) for block in blocks[1:]
    ]
    try:
        if blocks:
            yield from build([_document_columns(paper) for paper in blocks[0]], tally)
        for block_built in ahead:
            yield from block_built.result()
    finally:  # the stream failed or was dropped: the blocks not begun are not built
        for pending in ahead:
            pending.cancel()


def _document_columns(paper: Paper) -> tuple[list[str], str | list[str], str | list[str]]:
    """The title's folded words; the abstract and the author list as text where it is ASCII (the
    builders split it), else as folded words (``words`` of the list: its names' words in turn)."""
    title = paper.title_key.split() if paper.title.isascii() else words(paper.title)
    names = " ".join(paper.authors)
    # Not ASCII (a third of the bench corpus's lists, a twentieth of the real one's): each name's
    # words from their cache, not the whole list folded anew each paper (its NFKC and casefold were
    # a tenth of the bench ingest's main thread).
    authors = names if names.isascii() else [word for name in paper.authors for word in name_words(name)]
    abstract = paper.abstract if paper.abstract.isascii() else words(paper.abstract)
    return title, abstract, authors


def _document(columns: list[list[str]], *, plain: bool) -> str:
    """The document of the title's, abstract's and authors' words (``plain``: none is empty or
    holds a quote or a backslash, so none needs leaving out or escaping), its lexemes in the order
    the server keeps them. The server sorts a vector's lexemes as it reads one (to merge a word's
    positions); given them in order, its sort only checks that they are: about 14 us a paper less
    of the server's CPU (a third of reading the vector), for 10 to 20 us of this process's to sort
    them here, so it pays where the server is the slower side (docs/performance.md, "Seventh
    session: PostgreSQL ingest (server)")."""
    title_words, abstract_words, author_words = columns
    if sum(map(len, columns)) + 2 > _MAX_POSITION or _text_bytes(columns) > _MAX_TEXT_BYTES:
        # Past position 16383 or tsvector's size the server's reading of this text would merge
        # capped positions as its sort falls, or refuse it: the document migration 0042's
        # paperbot_document builds is written out whole.
        return capped_document(columns)
    lexemes = _lexemes(title_words, 1, "A", plain)
    lexemes += _lexemes(abstract_words, len(title_words) + 2, "B", plain)
    lexemes += _lexemes(author_words, len(title_words) + len(abstract_words) + 3, "C", plain)
    if title_words:
        lexemes += _lexemes(["^" + title_words[0]], 1, "A", plain)
    # Each lexeme is its word, a closing quote and its position: the quote (0x27) sorts before any
    # character of a word, so a word sorts before the longer words it begins, as the server's
    # byte order has it (Python compares code points, which UTF-8's byte order follows).
    lexemes.sort()
    return "'" + " '".join(lexemes) if lexemes else ""


# "':<position><weight>" for every position up to the cap: a column's lexemes are its words with
# these appended, in C (an f-string per word was the largest part of building a document).
_SUFFIXES = {weight: [f"':{position}{weight}" for position in range(_MAX_POSITION + 1)] for weight in "ABC"}


# The title's first word again as '^word' takes at most 2046 bytes + 5 more than its text counts.
_MAX_TEXT_BYTES = MAX_VECTOR_BYTES - 2051


def _text_bytes(columns: list[list[str]]) -> int:
    """At least the bytes of the one-lexeme-a-position text of the columns' words (each word,
    quotes, a colon, a position and a weight): it bounds the vector the server reads of it."""
    return sum(len(word) * (1 if word.isascii() else 4) + 5 for column in columns for word in column)


def _lexemes(words: list[str], first: int, weight: str, plain: bool) -> list[str]:
    """``word':position weight`` for each of the words, numbered from ``first`` (each lexeme's
    opening quote is left to the join)."""
    if not words:
        return []
    if (
        plain
        and first + len(words) - 1 <= _MAX_POSITION
        and max(map(len, words)) * 4 <= _MAX_LEXEME_BYTES
        and "" not in words
    ):
        # Every column of a real paper: short words, nothing to cap, leave out or escape (the
        # general case below costs more than twice as much a word).
        return list(map(add, words, _SUFFIXES[weight][first : first + len(words)]))
    return [
        f"{_quoted(word)}':{min(position, _MAX_POSITION)}{weight}"
        for position, word in enumerate(words, first)
        if word and (len(word) * 4 <= _MAX_LEXEME_BYTES or len(word.encode()) <= _MAX_LEXEME_BYTES)
    ]


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
        to ``count_cap``): ``ranked_window`` with nothing ranked."""
        found = await self.ranked_window(
            fts_query, cap, count_cap=count_cap, weights=None, phrase=None, best=0
        )
        return found.floor, found.total

    async def ranked_window(
        self,
        fts_query: str,
        cap: int,
        *,
        count_cap: int,
        weights: tuple[float, float, float] | None,
        phrase: str | None,
        best: int,
    ) -> RankedWindow:
        """The window (the newest ``cap + 1`` matches, all of them when no more match), ranked as
        it is found (migration 0037's paperbot_ranked_window: a newest-first walk of the newest
        papers, then walking on or the GIN bitmap of as many as should hold the window): the
        ``best`` matches of ``phrase`` in it, by ``ts_rank_cd`` weighted as bm25()'s (title,
        abstract, authors), and the best of the query's own as many more; then how many match,
        up to ``count_cap``. ``weights`` None: the window alone, nothing ranked.

        A word in a quarter of the papers reaches its count cap a few thousand rows further down
        the same walk, where counting through the GIN bitmap first builds the bitmap of every
        match (629,000 for ``data`` at a million papers: 110 ms of server CPU against 5 ms). A
        rarer word, whose walk to the cap would test many rows for each match, is counted through
        the bitmap (migration 0023), unless the word counts the ingest keeps already say the cap
        is reached."""
        query = tsquery(fts_query)
        phrase_query = tsquery(phrase) if phrase is not None else None
        if query is None:
            return RankedWindow(0, 0, [], [])
        ranks = rank_weights(weights) if weights is not None else None
        if "<->" in query:
            # A phrase is not exact in the GIN index (each candidate's positions are read again),
            # so its bitmap costs what a walk does: the planner's own choice did best.
            sql = "SELECT * FROM paperbot_ranked_window_by_plan(?::tsquery, ?::tsquery, ?::real[], ?, ?)"
            params: tuple[object, ...] = (query, phrase_query, ranks, cap + 1, best)
        else:
            sql = "SELECT * FROM paperbot_ranked_window(?::tsquery, ?::tsquery, ?::real[], ?, ?, ?)"
            params = (query, phrase_query, ranks, cap + 1, WINDOW_PROBE_ROWS, best)
        async with self._db.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        assert row is not None  # an aggregate: one row, whatever matched
        counted, floor, newest = int(row[0]), int(row[1] or 0), int(row[2] or 0)
        ranked = [(int(pk), float(score)) for pk, score in zip(row[3], row[4], strict=True)]
        phrased = [(int(pk), float(score)) for pk, score in zip(row[5], row[6], strict=True)]
        if counted <= cap:
            return RankedWindow(0, min(counted, count_cap), phrased, ranked)
        total = await self._total(fts_query, query, counted, floor, newest, count_cap)
        return RankedWindow(floor, total, phrased, ranked)

    async def _total(
        self, fts_query: str, query: str, counted: int, floor: int, newest: int, count_cap: int
    ) -> int:
        """How many match up to ``count_cap``, ``counted`` of them found from ``newest`` down to
        ``floor``."""
        if counted >= count_cap:
            return count_cap
        if await self._held_by_at_least(fts_query, count_cap):
            return count_cap
        # The rows the walk passed per match so far (pks are dense: the table is appended to), and
        # so about how many match in all.
        rows_per_match = (newest - floor + 1) / counted
        if (count_cap - counted) * rows_per_match * WALKED_ROW_COST <= newest / rows_per_match:
            sql = "SELECT paperbot_count_below(?::tsquery, ?, ?)"
            async with self._db.execute(sql, (query, floor, count_cap - counted)) as cursor:
                below = await cursor.fetchone()
            return counted + (int(below[0]) if below else 0)
        return await self._capped_count(query, count_cap)

    async def _held_by_at_least(self, fts_query: str, papers: int) -> bool:
        """Whether the word counts the ingest keeps (``term_docs``: papers holding the word in
        title or abstract) say that ``papers`` papers match a query of one word, or of words any of
        which will do. They count a subset of its matches (the search column also holds the
        authors), so they can only tell that the count cap is reached: one B-tree seek where
        counting to it through the GIN bitmap cost a word in a tenth of a million papers 45 ms of
        server CPU (the bitmap of all 116,000 matches, then 10,000 rows visited). Only plain ASCII
        words: their folding is the same in both counts (tests/storage/test_term_docs.py)."""
        if _ANY_PLAIN_WORD.fullmatch(fts_query) is None:
            return False
        words = json.dumps(fts_query.replace(" OR ", " ").replace('"', "").split())
        sql = f"SELECT coalesce(max(docs), 0) FROM term_docs WHERE term IN ({self._db.dialect.texts()})"
        async with self._db.execute(sql, (words,)) as cursor:
            row = await cursor.fetchone()
        return row is not None and int(row[0]) >= papers

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
