"""A paper whose distinct words pass what a tsvector holds (1,048,575 bytes of lexemes and
positions): PostgreSQL refused the whole batch it came in, and a SQLite store holding it could never
move there. Its vector now leaves out the lexemes past that size (in order of first position), the
same in the C builder, the Python builder and the server's own ``paperbot_document``; the paper is
stored, and found by its title, on both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import asyncpg
import pytest

from bench.corpus import generate
from bot.domain.models import ListedPaper, Paper
from bot.services.papers import PaperService
from bot.storage._pg_document import document as compiled_document
from bot.storage._pg_document import vector as compiled_vector
from bot.storage.connection import Store
from bot.storage.pg_document import MAX_VECTOR_BYTES, capped_document, merged_document, merged_vector
from bot.storage.pg_search import search_document
from tests.conftest import FIXED_NOW


def distinct_words(total_cost: int) -> list[str]:
    """Distinct lower-case words, each at one position, whose vector costs exactly ``total_cost``
    (a one-position lexeme costs its bytes + 5)."""
    found = []
    left = total_cost
    n = 0
    while left > 0:
        size = min(2000, left - 5)
        found.append(f"{n:04d}" + "x" * (size - 4))
        left -= size + 5
        n += 1
    return found


AT_LIMIT = distinct_words(MAX_VECTOR_BYTES)
PAST_LIMIT = [*AT_LIMIT[:-1], AT_LIMIT[-1] + "y"]


def test_the_builders_take_a_vector_at_the_limit_and_leave_one_past_it_to_the_server() -> None:
    at = compiled_vector([], AT_LIMIT, [])
    assert at is not None and at == merged_vector([], AT_LIMIT, [])
    assert compiled_document([], AT_LIMIT, []) == merged_document([], AT_LIMIT, [])
    for builder in (compiled_document, compiled_vector, merged_document, merged_vector):
        assert builder([], PAST_LIMIT, []) is None
        assert builder([], " ".join(PAST_LIMIT), []) is None


@pytest.mark.parametrize(
    ("title", "abstract", "authors", "kept"),
    [
        ([], AT_LIMIT, [], len(AT_LIMIT)),
        ([], PAST_LIMIT, [], len(AT_LIMIT) - 1),
        # The title's words come first (at 1 and 2, and '^huge'), the authors' last: left out.
        (["huge", "paper"], [*PAST_LIMIT, "tail"], ["ann", "lee"], 3 + len(AT_LIMIT) - 1),
    ],
)
async def test_the_server_builds_the_same_vector_as_python_at_and_past_the_limit(
    postgres_url: str, title: list[str], abstract: list[str], authors: list[str], kept: int
) -> None:
    connection = await asyncpg.connect(postgres_url)
    try:
        row = await connection.fetchrow(
            "WITH built AS (SELECT paperbot_document($1, $2, $3) AS vector) "
            "SELECT tsvectorsend(vector) = tsvectorsend($4::tsvector) AS same, "
            "tsvectorsend($5::tsvector) = tsvectorsend(vector) AS sent, length(vector) AS lexemes, "
            "vector @@ to_tsquery('simple', $6) AS titled FROM built",
            " ".join(title), " ".join(abstract), " ".join(authors),
            capped_document([title, abstract, authors]),
            search_document(" ".join(title), " ".join(abstract), " ".join(authors)),
            " & ".join(title) or "0000" + "x" * 1996,
        )  # fmt: skip
    finally:
        await connection.close()
    assert row["same"] and row["sent"] and row["titled"]
    assert row["lexemes"] == kept


def huge_paper() -> Paper:
    """600 distinct 2,000-letter words (1.2 MB): well past what the server's vector can hold."""
    abstract = " ".join(f"{n:04d}" + "x" * 1996 for n in range(600))
    return Paper("A gigantic survey of everything", abstract, "hf-api", authors=("Ann Lee",))


async def test_a_day_holding_a_huge_paper_stores_every_paper_and_finds_it_by_title(database: Store) -> None:
    service = PaperService(database, clock=lambda: FIXED_NOW)
    await service.start()
    day = date(2026, 2, 3)
    listed = [*generate(12), ListedPaper(replace(huge_paper(), arxiv_id="2602.99999"), day, 13)]
    counts = await service.ingest(listed)
    assert counts.new == 13
    hits = await service.search.search("gigantic survey")
    assert [hit.paper.arxiv_id for hit in hits] == ["2602.99999"]
