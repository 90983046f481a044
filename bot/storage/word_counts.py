"""How many papers of an ingest batch hold each word of their title or abstract, counted in C.

Counting a hundred distinct words a paper in Python (split, set, Counter) cost the SQLite ingest a
fifth of its speed. Here the batch's index text goes into a full-text index in a private in-memory
SQLite, tokenized as the papers' own index is (unicode61, diacritics removed, so its words are
``bot.domain.text.words``; tests/storage/test_term_docs.py checks the two agree), without positions;
its vocabulary then says how many of the batch's papers hold each word. The work runs on a thread
of its own with the GIL released, beside the store's writer building the papers' real index, so on
a machine with a free core it adds little to an ingest's wall time. The PostgreSQL ingest uses it
only where the compiled vector builder is not built: that builder counts the same words as it
builds the papers' search vectors (``Tally``, bot/storage/_pg_document.c; tests/storage/
test_word_tally.py checks the two counts agree).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import closing

_WORDS = (
    "CREATE VIRTUAL TABLE words USING fts5 (title, abstract, content = '', columnsize = 0, "
    "detail = none, tokenize = 'unicode61 remove_diacritics 2')"
)


def batch_word_counts(texts: Iterable[tuple[str, str]]) -> list[tuple[str, int]]:
    """(word, papers holding it) for each paper's ``(title, abstract)`` as the full-text index is
    given them (``search_text``), words in order."""
    with closing(sqlite3.connect(":memory:")) as scratch:
        scratch.execute(_WORDS)
        # The whole batch gathered in memory and read once: no segment written and merged before.
        scratch.execute("INSERT INTO words (words, rank) VALUES ('hashsize', 67108864)")
        scratch.execute("CREATE VIRTUAL TABLE vocabulary USING fts5vocab (words, 'row')")
        # A contentless index takes no row without its rowid.
        rows = ((number, title, abstract) for number, (title, abstract) in enumerate(texts, 1))
        scratch.executemany("INSERT INTO words (rowid, title, abstract) VALUES (?, ?, ?)", rows)
        return [(str(term), int(docs)) for term, docs in scratch.execute("SELECT term, doc FROM vocabulary")]
