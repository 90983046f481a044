"""The search document the ingest sends PostgreSQL (bot.storage.pg_search.paper_document) gives its
lexemes in the order the server keeps them, so reading one the server only checks the order instead
of sorting a paper's 150-odd words (about 14 us of its CPU a paper, docs/performance.md "Seventh
session: PostgreSQL ingest (server)"); and the vector it makes is the server's own
``paperbot_document`` of the same columns, whatever the order."""

from __future__ import annotations

import asyncpg

from bench.corpus import generate
from bot.storage.pg_search import folded_columns, paper_document
from tests.storage.test_ingest_equivalence import unicode_papers


def lexemes_in_sent_order(document: str) -> list[str]:
    """The words of a plain document (folded words: no quotes or escapes inside), in the order sent."""
    sent = [token[1:].rsplit("':", 1)[0] for token in document.split(" ")]
    return [word for number, word in enumerate(sent) if number == 0 or sent[number - 1] != word]


async def test_the_search_document_sends_lexemes_in_the_servers_order(postgres_url: str) -> None:
    papers = [item.paper for item in unicode_papers()] + [item.paper for item in generate(200)]
    documents = [paper_document(paper) for paper in papers]
    columns = [folded_columns(paper) for paper in papers]
    connection = await asyncpg.connect(postgres_url)
    try:
        kept = await connection.fetch(
            "SELECT d.n, array(SELECT lexeme FROM unnest(d.document::tsvector)) AS lexemes, "
            "d.document::tsvector = paperbot_document(d.title, d.abstract, d.authors) AS same "
            "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
            "WITH ORDINALITY AS d(document, title, abstract, authors, n) ORDER BY d.n",
            documents,
            [c[0] for c in columns],
            [c[1] for c in columns],
            [c[2] for c in columns],
        )
    finally:
        await connection.close()
    assert [row["same"] for row in kept] == [True] * len(papers)
    assert [lexemes_in_sent_order(document) for document in documents] == [
        list(row["lexemes"]) for row in kept
    ]
