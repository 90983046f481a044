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
    # Each paper's id once (a property that derives it), and a paper alone under its id is its own
    # group: nearly every paper of a batch, whose merging, sorting and second look-ups were half of
    # this function's time (tests/domain/test_dedup_reference.py holds it to the rules as first written).
    by_id: dict[str, list[int]] = {}
    for index, paper in enumerate(incoming):
        key = paper.id
        members = by_id.get(key)
        if members is None:
            by_id[key] = [index]
        else:
            members.append(index)
    groups: list[tuple[list[int], Paper, str]] = []
    for key, members in by_id.items():
        if len(members) == 1:
            groups.append((members, incoming[members[0]], key))
        else:
            merged = _merged(members, incoming)
            groups.append((members, merged, merged.id))

    # Rule 3: the one arXiv id carrying each title key, where exactly one does (None where several
    # do), judged by the titles the papers will have after this batch (an incoming arXiv paper may
    # retitle its stored row). Ids are unique in ``after``: a key seen twice has two ids.
    after = {paper.id: paper for paper in stored if paper.arxiv_id}
    after.update((merged_id, merged) for _, merged, merged_id in groups if merged.arxiv_id)
    linked: dict[str, str | None] = {}
    for paper_id, paper in after.items():
        linked[paper.title_key] = None if paper.title_key in linked else paper_id

    # An untagged group whose title is linked to an incoming arXiv paper joins that paper's group.
    group_of = {merged_id: position for position, (_, _, merged_id) in enumerate(groups)}
    absorbed: dict[int, list[int]] = defaultdict(list)
    for members, merged, merged_id in groups:
        partner = linked.get(merged.title_key) if not merged.arxiv_id else None
        if partner is not None and partner in group_of:
            absorbed[group_of[partner]].extend(members)
            group_of.pop(merged_id)
    # (members, the merged paper and its id where nothing joined the group), first-seen order.
    kept: list[tuple[list[int], Paper | None, str | None]] = []
    for position, (members, merged, merged_id) in enumerate(groups):
        if group_of.get(merged_id) != position:
            continue
        joining = absorbed.get(position)
        if joining:
            kept.append((sorted([*members, *joining]), None, None))
        else:
            kept.append((members, merged, merged_id))
    if absorbed:  # a group that took in an earlier paper is placed where that paper was
        kept.sort(key=lambda group: group[0][0])

    stored_by_id = {paper.id: index for index, paper in enumerate(stored)}
    untagged_by_title = {paper.title_key: i for i, paper in enumerate(stored) if not paper.arxiv_id}
    placements = []
    for members, ready, ready_id in kept:
        merged = ready if ready is not None else _merged(members, incoming)
        target = stored_by_id.get(ready_id if ready_id is not None else merged.id)
        partner = linked.get(merged.title_key)
        if target is None and partner is not None:
            if merged.arxiv_id == partner:
                target = untagged_by_title.get(merged.title_key)  # the page capture of this paper
            elif not merged.arxiv_id:
                target = stored_by_id.get(partner)  # the arXiv paper of this title
        placements.append(Placement(merged, tuple(members), target))
    return placements


def _merged(members: Sequence[int], incoming: Sequence[Paper]) -> Paper:
    """Members merged in batch order: a later source fills in what it knows."""
    return reduce(merge, (incoming[i] for i in members[1:]), incoming[members[0]])
