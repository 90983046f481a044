"""A big ingest's collections leave alone the objects that were alive before it started."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_holders = 0  # ingests inside ``older_objects_frozen`` now: the last one out unfreezes


@contextmanager
def older_objects_frozen() -> Iterator[None]:
    """Move every object alive now to the collector's permanent generation until the block ends.

    An ingest of many papers allocates millions of objects, so the collector runs full
    collections during it, and each walked every object alive: the papers handed to the ingest
    (100,000 at the bench's size) and the bot's caches too, none of which the ingest can turn into
    garbage. Frozen, they are skipped (docs/performance.md, "Seventh session: ingest pipeline":
    about 8 us a paper at 50,000 papers). When the block ends they rejoin the oldest generation and
    later collections walk them again; garbage made meanwhile is collected as before. In a process
    whose heap is frozen already (``paperbot run`` freezes what start-up built) nothing changes."""
    global _holders
    if _holders == 0 and gc.get_freeze_count():
        # Frozen by someone else already (the running bot's start-up heap, bot.runner): unfreezing
        # at the end would hand that whole heap back to every full collection, so leave it be.
        yield
        return
    if _holders == 0:
        gc.freeze()
    _holders += 1
    try:
        yield
    finally:
        _holders -= 1
        if _holders == 0:
            gc.unfreeze()
