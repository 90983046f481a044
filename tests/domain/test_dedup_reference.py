"""``place`` gives exactly the placements of the rules as first written (its faster form must not
move a single paper): the same merged papers, members and stored rows, over small worlds where ids
and titles collide a lot, stored rows and several batches included."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import reduce

from hypothesis import example, given
from hypothesis import strategies as st

from bot.domain.dedup import Placement, place
from bot.domain.models import Paper, Source, merge
from tests.domain.test_dedup import apply, batches


def reference_place(incoming: Sequence[Paper], stored: Sequence[Paper]) -> list[Placement]:
    """``place`` as first written (before the eleventh session made it cheaper): the rules step
    by step, every group merged and sorted anew."""
    by_id: dict[str, list[int]] = {}
    for index, paper in enumerate(incoming):
        by_id.setdefault(paper.id, []).append(index)
    groups = [(members, reference_merged(members, incoming)) for members in by_id.values()]

    # Rule 3: the one arXiv id carrying each title key, where exactly one does, judged by the titles
    # the papers will have after this batch (an incoming arXiv paper may retitle its stored row).
    after = {paper.id: paper for paper in stored if paper.arxiv_id}
    after.update((merged.id, merged) for _, merged in groups if merged.arxiv_id)
    tagged_ids: dict[str, set[str]] = defaultdict(set)
    for paper in after.values():
        tagged_ids[paper.title_key].add(paper.id)
    linked = {key: next(iter(found)) for key, found in tagged_ids.items() if len(found) == 1}

    # An untagged group whose title is linked to an incoming arXiv paper joins that paper's group.
    group_of = {merged.id: position for position, (_, merged) in enumerate(groups)}
    absorbed: dict[int, list[int]] = defaultdict(list)
    for members, merged in groups:
        partner = linked.get(merged.title_key) if not merged.arxiv_id else None
        if partner is not None and partner in group_of:
            absorbed[group_of[partner]].extend(members)
            group_of.pop(merged.id)
    kept = [
        sorted([*members, *absorbed.get(position, [])])
        for position, (members, merged) in enumerate(groups)
        if group_of.get(merged.id) == position
    ]
    kept.sort(key=lambda members: members[0])

    stored_by_id = {paper.id: index for index, paper in enumerate(stored)}
    untagged_by_title = {paper.title_key: i for i, paper in enumerate(stored) if not paper.arxiv_id}
    placements = []
    for members in kept:
        merged = reference_merged(members, incoming)
        target = stored_by_id.get(merged.id)
        if target is None and linked.get(merged.title_key) is not None:
            if merged.arxiv_id == linked[merged.title_key]:
                target = untagged_by_title.get(merged.title_key)  # the page capture of this paper
            elif not merged.arxiv_id:
                target = stored_by_id.get(linked[merged.title_key])  # the arXiv paper of this title
        placements.append(Placement(merged, tuple(members), target))
    return placements


def reference_merged(members: Sequence[int], incoming: Sequence[Paper]) -> Paper:
    """Members merged in batch order: a later source fills in what it knows."""
    return reduce(merge, (incoming[i] for i in members[1:]), incoming[members[0]])


def _paper(title: str, arxiv_id: str | None = None) -> Paper:
    return Paper(title=title, abstract="", source=Source.HF_API, arxiv_id=arxiv_id)


@given(st.lists(batches, max_size=3), batches)
# A page capture joins the arXiv paper of its title listed after another: the group it joined is
# placed where the capture was, before the paper listed between them.
@example(
    [],
    [
        _paper("Shared Title Paper"),
        _paper("Another Paper", "2510.00002"),
        _paper("shared title: paper", "2510.00001"),
    ],
)
# A stored page capture, and a title two arXiv papers carry: nothing merged into it.
@example(
    [[_paper("Third One")]],
    [_paper("Third One", "2510.00001"), _paper("third one", "2510.00002"), _paper("Third One")],
)
def test_place_puts_every_paper_where_the_rules_as_first_written_put_it(
    history: list[list[Paper]], batch: list[Paper]
) -> None:
    store: list[Paper] = []
    for earlier in history:
        store, _ = apply(store, reference_place(earlier, store))
    assert place(batch, store) == reference_place(batch, store)
