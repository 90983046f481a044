"""The dedup rules as properties over small worlds where titles and arXiv ids collide a lot."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.dedup import Placement, place
from bot.domain.models import Paper, Source, merge

TITLES = ["Shared Title Paper", "shared  title: paper", "Another Paper", "Third One"]
IDS = [None, "2510.00001", "2510.00002", "2510.00003"]

papers = st.builds(
    lambda title, arxiv_id, abstract, upvotes: Paper(
        title=title, abstract=abstract, source=Source.HF_API, arxiv_id=arxiv_id, upvotes=upvotes
    ),
    st.sampled_from(TITLES),
    st.sampled_from(IDS),
    st.sampled_from(["", "abstract one", "abstract two"]),
    st.sampled_from([None, 1, 5]),
)
batches = st.lists(papers, max_size=8)


def apply(store: list[Paper], placements: Sequence[Placement]) -> tuple[list[Paper], list[str]]:
    """What the repository does with placements; returns the new store and each placement's outcome."""
    store = list(store)
    outcomes = []
    for placement in placements:
        if placement.stored is None:
            store.append(placement.paper)
            outcomes.append("new")
        else:
            before = store[placement.stored]
            store[placement.stored] = merge(before, placement.paper)
            changed = store[placement.stored].content_hash() != before.content_hash()
            outcomes.append("updated" if changed else "unchanged")
    return store, outcomes


def ingest_all(batches: Sequence[Sequence[Paper]]) -> list[Paper]:
    store: list[Paper] = []
    for batch in batches:
        store, _ = apply(store, place(batch, store))
    return store


@given(st.lists(batches, max_size=4), batches)
def test_ingesting_the_same_batch_twice_leaves_everything_unchanged(
    history: list[list[Paper]], batch: list[Paper]
) -> None:
    store = ingest_all([*history, batch])
    again, outcomes = apply(store, place(batch, store))
    assert set(outcomes) <= {"unchanged"}
    assert again == store


@given(st.lists(batches, max_size=4))
def test_ids_stay_unique_and_distinct_arxiv_ids_never_merge(history: list[list[Paper]]) -> None:
    store = ingest_all(history)
    assert len({paper.id for paper in store}) == len(store)
    seen = {p.arxiv_id for batch in history for p in batch if p.arxiv_id}
    assert seen == {p.arxiv_id for p in store if p.arxiv_id}  # every arXiv paper has its own row


@given(st.lists(batches, max_size=3), batches)
def test_every_incoming_paper_lands_once_and_each_stored_row_takes_at_most_one(
    history: list[list[Paper]], batch: list[Paper]
) -> None:
    store = ingest_all(history)
    placements = place(batch, store)
    members = sorted(m for p in placements for m in p.members)
    assert members == list(range(len(batch)))
    targets = [p.stored for p in placements if p.stored is not None]
    assert len(targets) == len(set(targets))
    for placement in placements:
        arxiv_ids = {batch[m].arxiv_id for m in placement.members} - {None}
        if placement.stored is not None and store[placement.stored].arxiv_id:
            arxiv_ids.add(store[placement.stored].arxiv_id)
        assert len(arxiv_ids) <= 1


def paper(title: str, arxiv_id: str | None = None, abstract: str = "text") -> Paper:
    return Paper(title=title, abstract=abstract, source=Source.HF_PAGE, arxiv_id=arxiv_id)


def test_two_arxiv_papers_with_a_stored_page_title_do_not_both_merge_into_it() -> None:
    stored = [paper("Shared Title Paper")]
    incoming = [paper("Shared Title Paper", "2510.00001"), paper("Shared Title Paper", "2510.00002")]
    placements = place(incoming, stored)
    assert [p.stored for p in placements] == [None, None]  # ambiguous: the page row is left alone


def test_one_arxiv_paper_with_a_stored_page_title_upgrades_it() -> None:
    placements = place([paper("shared title paper", "2510.00001")], [paper("Shared Title Paper")])
    assert [p.stored for p in placements] == [0]


def test_page_capture_and_api_answer_in_one_batch_are_one_paper() -> None:
    placements = place([paper("Shared Title Paper"), paper("Shared title paper", "2510.00001")], [])
    assert [(p.members, p.paper.arxiv_id) for p in placements] == [((0, 1), "2510.00001")]


def test_page_capture_is_not_merged_when_two_arxiv_papers_carry_its_title() -> None:
    stored = [paper("Shared Title Paper", "2510.00001"), paper("Shared Title Paper", "2510.00002")]
    placements = place([paper("Shared Title Paper")], stored)
    assert [p.stored for p in placements] == [None]
