"""Which incoming papers are the same paper, and which stored paper each one updates.

The rules:

1. The same id is the same paper: the arXiv id, or for a paper without one the id derived from its
   title key (so two papers without an arXiv id and with the same title key are one paper).
2. Two different arXiv ids are never the same paper, whatever their titles.
3. A paper without an arXiv id is the arXiv paper with its title key only when that is unambiguous:
   exactly one arXiv id carries that title key among the stored and incoming papers together.
   Sources differ in what they know (the page text has no arXiv id), so this is how a page capture
   and the API's answer for the same day become one row; when two arXiv papers share the title,
   which one the page meant cannot be told, so nothing is merged and nothing is overwritten.
4. Hence a title match merges at most one incoming paper into one stored paper, and a stored paper
   is updated by at most one incoming paper (an id match takes precedence over a title match).

Pure: no I/O, so the rules are property-tested on their own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce

from bot.domain.models import Paper, merge


@dataclass(frozen=True, slots=True)
class Placement:
    """One distinct paper of a batch: its members merged in batch order, which incoming papers it
    came from (indices into the batch), and the stored paper it updates (an index into ``stored``)."""

    paper: Paper
    members: tuple[int, ...]
    stored: int | None


def place(incoming: Sequence[Paper], stored: Sequence[Paper]) -> list[Placement]:
    """Group ``incoming`` into distinct papers and match each to at most one of ``stored``.

    Every incoming index is in exactly one placement (placements in first-seen order); every stored
    index in at most one. ``stored`` holds each id at most once, as the store does.
    """
    by_id: dict[str, list[int]] = {}
    for index, paper in enumerate(incoming):
        by_id.setdefault(paper.id, []).append(index)
    groups = [(members, _merged(members, incoming)) for members in by_id.values()]

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
        merged = _merged(members, incoming)
        target = stored_by_id.get(merged.id)
        if target is None and linked.get(merged.title_key) is not None:
            if merged.arxiv_id == linked[merged.title_key]:
                target = untagged_by_title.get(merged.title_key)  # the page capture of this paper
            elif not merged.arxiv_id:
                target = stored_by_id.get(linked[merged.title_key])  # the arXiv paper of this title
        placements.append(Placement(merged, tuple(members), target))
    return placements


def _merged(members: Sequence[int], incoming: Sequence[Paper]) -> Paper:
    """Members merged in batch order: a later source fills in what it knows."""
    return reduce(merge, (incoming[i] for i in members[1:]), incoming[members[0]])
