"""The search document the PostgreSQL ingest sends for each paper: the ``tsvector`` text of its
folded words with each lexeme once, all its positions after it (``'word':3A,17B``), lexemes in the
server's byte order.

The server reads it into the vector it made of the one-lexeme-a-position text before (the same
stored bytes: tests/storage/test_pg_document.py), in about a fifth less of its CPU: it parses each
word once and has no positions to gather. Built by a small C function (``_pg_document``, compiled
by ``make``; about a tenth of the Python's cost) where it is there, else by ``merged_document``
below, which gives the same text; where neither can (a word to escape, a position past 16383 or
a vector past tsvector's size: ``capped_document`` then writes migration 0042's document) the
caller builds the text another way (bot/storage/pg_search.py ``_document``).

The compiled ``vectors`` also counts, given a ``Tally``, the papers holding each word of their title
or abstract (``term_docs``), every word, those the vector leaves out too: the PostgreSQL ingest's
word counts, made without the GIL from the words it splits and sorts anyway.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from bot.domain.text import words

if TYPE_CHECKING:  # only the compiled builder counts words (Tally: papers holding each word)
    from bot.storage._pg_document import Tally as Tally

# tsvector's limits: positions stop at 16383, a lexeme holds at most 2046 bytes (longer ones are
# left out, their positions counted) and keeps its first 256 positions.
MAX_POSITION = 16383
MAX_LEXEME_BYTES = 2046
MAX_POSITIONS = 256
# A vector holds at most 1,048,575 bytes of lexemes and positions (MAXSTRPOS): past it the server
# refused the paper (and the batch it came in). ``capped_document`` leaves out what would pass it,
# as migration 0042's paperbot_document does; the merged builders return None for it.
MAX_VECTOR_BYTES = 1048575

Built = TypeVar("Built", str, bytes)
Builder = Callable[[list[str], str | list[str], str | list[str]], Built | None]
Columns = tuple[list[str], str | list[str], str | list[str]]

# Many papers' vectors in one call, built without the GIL (the compiled ``vectors``); given a
# tally, each paper's distinct title and abstract words are counted into it.
BlockBuilder = Callable[[Sequence[Columns], "Tally | None"], list[bytes | None]]


Lexemes = list[tuple[str, list[tuple[int, str]]]]
# tsvector's binary weights (tsvectorsend): A 3, B 2, C 1, in a position's top two bits.
_WEIGHT_BITS = {"A": 3 << 14, "B": 2 << 14, "C": 1 << 14}


def merged_lexemes(title: list[str], abstract: str | list[str], authors: str | list[str]) -> Lexemes | None:
    """Each lexeme of the document of the title's, abstract's and authors' words with its
    (position, weight)s, in the server's order (weights A, B, C; title from position 1, each
    column one position after the one before; the title's first word once more as '^word' at 1).
    A column given as text is split as ``words`` splits ASCII. None where such a text is not
    ASCII, a word is empty or holds a quote, a backslash or a zero byte, a position passes 16383
    or the lexemes' ``lexeme_cost`` passes MAX_VECTOR_BYTES."""
    positions: dict[str, list[tuple[int, str]]] = {}
    first = 1
    for column, weight in ((title, "A"), (abstract, "B"), (authors, "C")):
        if isinstance(column, str) and not column.isascii():
            return None
        column_words = words(column) if isinstance(column, str) else column
        if first + len(column_words) - 1 > MAX_POSITION:
            return None
        for position, word in enumerate(column_words, first):
            if not word or "'" in word or "\\" in word or "\0" in word:
                return None
            if len(word) * 4 > MAX_LEXEME_BYTES and len(word.encode()) > MAX_LEXEME_BYTES:
                continue
            positions.setdefault(word, []).append((position, weight))
        first += len(column_words) + 1
    if title and len(title[0].encode()) < MAX_LEXEME_BYTES:
        # Position 1 comes before any other of the word's ('^' is no word character anyway).
        positions.setdefault("^" + title[0], []).insert(0, (1, "A"))
    # Python orders text by code point, which UTF-8's byte order (the server's) follows.
    merged = sorted(positions.items())
    if sum(lexeme_cost(word, len(found)) for word, found in merged) > MAX_VECTOR_BYTES:
        return None
    return merged


def lexeme_cost(word: str, positions: int) -> int:
    """At least the bytes a lexeme takes in a stored vector: its bytes, an alignment byte, its
    count of positions and each position (it keeps at most 256)."""
    return len(word.encode()) + 3 + 2 * min(positions, MAX_POSITIONS)


def capped_document(columns: list[list[str]]) -> str:
    """The tsvector text of migration 0042's ``paperbot_document`` of the columns' words (title A,
    abstract B, authors C, one position apart, the title's first word again as '^word' at 1):
    each lexeme once with all its positions, a position past 16383 counted as 16383 with the
    highest weight of the words there, and, in order of first position (ties in byte order), the
    lexemes whose costs (``lexeme_cost``) together stay within MAX_VECTOR_BYTES; the rest left
    out, as words past 2046 bytes are."""
    places: dict[str, dict[int, str]] = {}
    first = 1
    for column, weight in zip(columns, "ABC", strict=True):
        for position, word in enumerate(column, first):
            _place(places, word, min(position, MAX_POSITION), weight)
        first += len(column) + 1
    if columns[0]:
        _place(places, "^" + columns[0][0], 1, "A")
    total = 0
    kept: list[tuple[str, dict[int, str]]] = []
    for word, at in sorted(places.items(), key=lambda item: (min(item[1]), item[0])):
        total += lexeme_cost(word, len(at))
        if total > MAX_VECTOR_BYTES:
            break
        kept.append((word, at))
    return " ".join(
        f"'{_escaped(word)}':{','.join(f'{position}{at[position]}' for position in sorted(at))}"
        for word, at in sorted(kept)
    )


def _place(places: dict[str, dict[int, str]], word: str, position: int, weight: str) -> None:
    if not word or (len(word) * 4 > MAX_LEXEME_BYTES and len(word.encode()) > MAX_LEXEME_BYTES):
        return
    at = places.setdefault(word, {})
    # 'A' < 'B' < 'C': the highest weight is the least letter.
    at[position] = min(weight, at.get(position, weight))


def _escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("'", "''")


def merged_document(title: list[str], abstract: str | list[str], authors: str | list[str]) -> str | None:
    """``merged_lexemes`` as tsvector text: ``'word':3A,17B``, at most 256 positions a lexeme."""
    lexemes = merged_lexemes(title, abstract, authors)
    if lexemes is None:
        return None
    return " ".join(
        f"'{word}':{','.join(f'{position}{weight}' for position, weight in found[:MAX_POSITIONS])}"
        for word, found in lexemes
    )


def merged_vector(title: list[str], abstract: str | list[str], authors: str | list[str]) -> bytes | None:
    """``merged_lexemes`` as ``tsvectorsend`` writes a vector (``tsvectorrecv`` reads it in COPY's
    binary format): the number of lexemes, then each lexeme, a zero byte, its number of positions
    and each position as weight << 14 | position, big-endian."""
    lexemes = merged_lexemes(title, abstract, authors)
    if lexemes is None:
        return None
    parts = [len(lexemes).to_bytes(4, "big")]
    for word, found in lexemes:
        kept = [_WEIGHT_BITS[weight] | position for position, weight in found[:MAX_POSITIONS]]
        parts.append(word.encode() + b"\0" + struct.pack(f"!{len(kept) + 1}H", len(kept), *kept))
    return b"".join(parts)


def merged_vectors(papers: Sequence[Columns]) -> list[bytes | None]:
    """``merged_vector`` of each paper's columns: what the compiled ``vectors`` returns."""
    return [merged_vector(*columns) for columns in papers]


def _compiled() -> tuple[Builder[str], Builder[bytes], BlockBuilder, type[Tally]] | None:
    try:
        from bot.storage._pg_document import Tally, document, vector, vectors
    except ImportError:  # not built (no C compiler where it was installed): the Python builders
        return None
    return document, vector, vectors, Tally


# The builders the ingest uses: the C ones where they were built. ``block_vectors`` only where
# compiled: in Python it would hold the GIL throughout, and a worker thread would gain nothing.
_built = _compiled()
build_document, build_vector = _built[:2] if _built else (merged_document, merged_vector)
block_vectors: BlockBuilder | None = _built[2] if _built else None
# A new word tally for ``block_vectors`` to count into, where it is compiled: the word counts of
# a PostgreSQL ingest are then made with its vectors (bot.storage.papers ``_insert_pg``), else by
# bot.storage.word_counts on a thread of their own.
new_tally: type[Tally] | None = _built[3] if _built else None
