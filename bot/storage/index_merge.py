"""Keep the full-text indexes merged into one segment, in small steps beside serving.

Why: FTS5 keeps an index as a list of segments (b-trees), and every word a query looks up is
looked up in every segment: one page read per word and segment. A bulk ingest leaves a dozen
(12 at 106k papers, 13 in the 1M bench store), and each later ingest adds one more. On a store
the OS does not hold in its page cache those reads go to the disk one at a time: "more like this"
read 90 index pages a call with 12 segments and 17 with one (docs/performance.md, "Sixth session:
merged indexes"). FTS5's own automerge only merges four segments of one level at a time, so it
never brings an index down to one.

How: ``INSERT INTO idx(idx, rank) VALUES('merge', -pages)`` merges segments until about ``pages``
pages were written, putting every segment on one level first (the minus sign), so repeated steps
end with one segment. Each step is its own short transaction through the store's writer: an
interaction's write queued meanwhile goes next (the writer's lock is first come, first served),
and a stop between or during steps leaves a whole index (a step that does not commit rolls back;
FTS5 resumes a merge from what was committed). A step that changed nothing (SQLite's change
counter moved by less than 2, as the FTS5 documentation says) means the index is merged.

When: an index with more than ``above`` segments is merged down to one. One segment more costs a
query one page read more; a merge rewrites the whole index (at 1M papers 600 MB, written twice:
into the write-ahead log, then the file), so the bot lets a few small segments from its own
fetches gather first. SQLite only: PostgreSQL's GIN indexes keep their own pending list.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.storage.database import Database

INDEXES = ("papers_fts", "titles_fts")
# A step's CPU on this machine: p50 4 ms at 106k papers, 12 ms at 1M (a word's whole list is
# written in one step, so the steps that meet the commonest words take up to ~0.1 s at 1M).
STEP_PAGES = 64
MERGE_ABOVE = 4  # segments an index may keep before the bot merges it to one


@dataclass(slots=True)
class Merged:
    """What one merge pass did: segments per index before and after, steps, time."""

    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    steps: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    finished: bool = True  # false: stopped early (the bot was stopping, or another writer held on)

    @property
    def merged_any(self) -> bool:
        return self.steps > 0

    def describe(self) -> str:
        indexes = ", ".join(
            f"{name} {self.before[name]} -> {self.after.get(name, '?')}" for name in self.before
        )
        state = "" if self.finished else " (stopped before the end)"
        return f"full-text index segments {indexes}: {self.steps} merge steps in {self.seconds:.1f} s{state}"


async def segment_counts(database: Database) -> dict[str, int]:
    """Segments in each full-text index. One seek a segment: the next segment id after the last."""
    counts: dict[str, int] = {}
    for index in INDEXES:
        count, last = 0, -1
        while True:
            sql = f"SELECT min(segid) FROM {index}_idx WHERE segid > ?"
            async with database.connection.execute(sql, (last,)) as cursor:
                row = await cursor.fetchone()
            if row is None or row[0] is None:
                break
            count, last = count + 1, int(row[0])
        counts[index] = count
    return counts


async def merge_step(database: Database, index: str, pages: int = STEP_PAGES) -> bool:
    """One merge step of ``index`` in a transaction of its own; False when there was nothing left to merge."""
    if index not in INDEXES:
        raise ValueError(f"not a full-text index: {index}")
    async with database.transaction() as writer:
        before = writer.total_changes
        await writer.execute(f"INSERT INTO {index} ({index}, rank) VALUES ('merge', ?)", (-int(pages),))
        return bool(writer.total_changes - before >= 2)


async def merge_indexes(
    database: Database,
    *,
    above: int = MERGE_ABOVE,
    pages: int = STEP_PAGES,
    stopped: Callable[[], bool] = lambda: False,
    cpu: Callable[[], float] = time.process_time,
) -> Merged:
    """Merge each index holding more than ``above`` segments down to one, a step at a time
    (``stopped`` asked before each step). Nothing on a read-only store."""
    merged = Merged()
    if database.readonly:
        return merged
    started, cpu_started = time.perf_counter(), cpu()
    merged.before = await segment_counts(database)
    try:
        for index, segments in merged.before.items():
            if segments <= above:
                continue
            while True:
                if stopped():
                    merged.finished = False
                    return merged
                if not await merge_step(database, index, pages):
                    break
                merged.steps += 1
                # Let the loop run what waited for this step (interactions, their writes) first.
                await asyncio.sleep(0)
    except BaseException:
        merged.finished = False
        raise
    finally:
        merged.seconds = time.perf_counter() - started
        merged.cpu_seconds = cpu() - cpu_started
        if merged.finished:
            merged.after = await segment_counts(database)
    return merged
