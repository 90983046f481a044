"""A cold load's own map of the rows it wrote (bot.storage.loaded_papers) finds what the look-up
statement would find in a store holding only those rows: by id or title key, after merges that
change a row's id (a page capture taking its arXiv id) or its title key (a retitled paper), and
with two arXiv papers sharing one title key."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import example, given
from hypothesis import strategies as st

from bot.domain.dedup import place
from bot.domain.models import Paper, Source
from bot.storage.loaded_papers import LoadedPapers
from bot.storage.papers import StoredPaper, UpsertCounts
from tests.domain.test_dedup import apply


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


def test_a_title_carried_by_many_arxiv_rows_is_matched_by_two_of_them() -> None:
    loaded = LoadedPapers()
    loaded.inserted([(1, "2602.1", "routing"), (2, "t-x", "routing"), (3, "2602.2", "routing")])
    loaded.inserted([(4, "2602.3", "routing"), (5, "2602.4", "routing"), (6, "t-y", "routing")])
    # Untagged rows all, the first two arXiv rows, and any row matched by its id.
    assert loaded.matching([], ["routing"]) == [1, 2, 3, 6]
    assert loaded.matching(["2602.4"], ["routing"]) == [1, 2, 3, 5, 6]
    # A row that takes an arXiv id counts as one of the title's arXiv rows from then on.
    loaded.rewritten(2, ("t-x", "routing"), ("2602.5", "routing"))
    assert loaded.matching([], ["routing"]) == [1, 3, 6]  # any two of them: row 2 is now last


TITLES = ["Shared Routing Title", "shared routing: title", "Other Title"]
ARXIV_IDS = [None, "2510.00001", "2510.00002", "2510.00003", "2510.00004", "2510.00005"]
world_papers = st.builds(
    lambda title, arxiv_id, abstract: Paper(
        title=title, abstract=abstract, source=Source.HF_API, arxiv_id=arxiv_id
    ),
    st.sampled_from(TITLES),
    st.sampled_from(ARXIV_IDS),
    st.sampled_from(["", "one", "two"]),
)


def _titled(title: str, arxiv_id: str | None = None) -> Paper:
    return Paper(title=title, abstract="", source=Source.HF_API, arxiv_id=arxiv_id)


# Two arXiv papers of one title: a page capture of that title is neither's (a new row), which only
# a look-up keeping both of them tells.
@example(
    history=[[_titled(TITLES[0], "2510.00001"), _titled(TITLES[1], "2510.00002")]],
    incoming=[_titled(TITLES[0])],
)
@given(
    st.lists(st.lists(world_papers, max_size=6), max_size=6), st.lists(world_papers, min_size=1, max_size=6)
)
def test_a_batch_is_placed_against_the_matched_rows_as_against_every_row_of_its_titles(
    history: list[list[Paper]], incoming: list[Paper]
) -> None:
    world: list[Paper] = []
    for batch in history:
        world, _ = apply(world, place(batch, world))
    loaded = LoadedPapers()
    loaded.inserted((pk, paper.id, paper.title_key) for pk, paper in enumerate(world, 1))
    ids, keys = {paper.id for paper in incoming}, {paper.title_key for paper in incoming}
    every = [pk for pk, paper in enumerate(world, 1) if paper.id in ids or paper.title_key in keys]
    matched = loaded.matching(ids, keys)
    assert set(matched) <= set(every)

    def placed(pks: list[int]) -> list[tuple[Paper, tuple[int, ...], int | None]]:
        rows = [world[pk - 1] for pk in pks]
        return [
            (p.paper, p.members, None if p.stored is None else pks[p.stored]) for p in place(incoming, rows)
        ]

    assert placed(matched) == placed(every)
