"""A cold load's own map of the rows it wrote (bot.storage.loaded_papers) finds what the look-up
statement would find in a store holding only those rows: by id or title key, after merges that
change a row's id (a page capture taking its arXiv id) or its title key (a retitled paper), and
with two arXiv papers sharing one title key."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.domain.models import Paper, Source
from bot.storage.loaded_papers import LoadedPapers
from bot.storage.papers import StoredPaper, UpsertCounts


def test_rows_are_found_by_id_or_title_key_as_they_are_now() -> None:
    loaded = LoadedPapers()
    loaded.inserted([(1, "t-abc", "sparse mixtures"), (2, "2602.1", "attention"), (3, "2602.2", "attention")])
    assert loaded.matching(["t-abc"], []) == [1]
    assert loaded.matching([], ["attention"]) == [2, 3]  # two arXiv papers of one title
    assert loaded.matching(["2602.2"], ["sparse mixtures"]) == [1, 3]
    assert loaded.matching(["2602.9"], ["unknown"]) == []

    # The page capture's row takes its arXiv paper's id: found by the new id, not the old.
    loaded.rewritten(1, ("t-abc", "sparse mixtures"), ("2602.3", "sparse mixtures"))
    assert loaded.matching(["t-abc"], []) == []
    assert loaded.matching(["2602.3"], []) == [1]
    assert loaded.matching([], ["sparse mixtures"]) == [1]

    # One of the two papers sharing a title is retitled: the other keeps the old title's key.
    loaded.rewritten(2, ("2602.1", "attention"), ("2602.1", "attention is enough"))
    assert loaded.matching([], ["attention"]) == [3]
    assert loaded.matching([], ["attention is enough"]) == [2]
    loaded.rewritten(3, ("2602.2", "attention"), ("2602.2", "attention again"))
    assert loaded.matching([], ["attention"]) == []
    assert loaded.matching(["2602.1", "2602.2"], []) == [2, 3]


def test_a_row_read_again_is_the_row_as_last_written() -> None:
    # Read back once and kept (a title matched by batch after batch), until an update rewrites it.
    first = Paper(title="Sparse Routing", abstract="About routing.", source=Source.HF_PAGE)
    loaded = LoadedPapers()
    loaded.inserted([(1, first.id, first.title_key)])
    loaded.written([1], [first], "2026-11-28T10:00:00+00:00")
    before = loaded.stored(1)
    assert loaded.stored(1) == before and before.source == "hf-page" and type(before.source) is str
    assert before.created_at == before.updated_at == datetime(2026, 11, 28, 10, tzinfo=UTC)

    later = replace(first, abstract="About routing, revised.")
    loaded.updated(1, later, "2026-11-28T11:00:00+00:00")
    after = loaded.stored(1)
    assert after.abstract == "About routing, revised."
    assert (after.created_at, after.updated_at) == (before.created_at, datetime(2026, 11, 28, 11, tzinfo=UTC))


def test_the_counts_of_many_batches_are_their_sum() -> None:
    def stored(pk: int) -> StoredPaper:
        return StoredPaper(pk, Paper(title=f"Paper {pk}", abstract="", source=Source.ARXIV_RSS))

    parts = [
        UpsertCounts(2, 1, 0, (stored(1), stored(2))),
        UpsertCounts(),
        UpsertCounts(1, 0, 3, (stored(3),)),
    ]
    total = UpsertCounts.total(parts)
    assert (total.new, total.updated, total.unchanged) == (3, 1, 3)
    assert [paper.pk for paper in total.inserted] == [1, 2, 3]
    assert total == parts[0] + parts[1] + parts[2]
    assert [paper.pk for paper in (parts[0] + parts[2]).inserted] == [1, 2, 3]
