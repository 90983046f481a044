"""The pages behind Previous/Next buttons, kept compact, for a while, within a byte budget.

A paged answer used to live in memory as a discord.py view per message (its embeds, a timer task
and the sent message) until it timed out: at 300 interactions/s that was every answer of the last
three minutes, ~150 Python objects each, which every full garbage collection walked (0.6-0.8 s
pauses) and which took RSS past 400 MB. Now a message's buttons carry only a short key; the pages
are kept here as one encoded blob (bytes hold no references, so the collector never scans them),
for ``lifetime`` (what the views' timeout was) and within ``budget_bytes`` (oldest out first), and
a button whose list is gone says so. Equal blobs (the same search asked again, whose rendered
answer is cached) are stored and counted once.
"""

from __future__ import annotations

import itertools
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

LIFETIME = timedelta(seconds=180)
BUDGET_BYTES = 16 * 1024 * 1024
# What one kept list costs besides its blob (the entry, its key, the dictionary slot): counted so
# that many lists sharing one blob still fill the budget.
ENTRY_BYTES = 240


@dataclass(frozen=True, slots=True)
class KeptList:
    owner_id: int
    command: str  # the command that showed it, for the log lines of its buttons
    blob: bytes
    kept_at: datetime


class PageLists:
    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        lifetime: timedelta = LIFETIME,
        budget_bytes: int = BUDGET_BYTES,
    ) -> None:
        self._clock = clock
        self._lifetime = lifetime
        self._budget = budget_bytes
        self._lists: OrderedDict[str, KeptList] = OrderedDict()  # oldest first
        self._blobs: dict[bytes, tuple[bytes, int]] = {}  # blob -> (the one copy kept, lists using it)
        self.bytes = 0
        # Keys from an earlier run of the bot must not find this run's lists: a random prefix.
        self._prefix = secrets.token_hex(3)
        self._numbers = itertools.count(1)

    def keep(self, owner_id: int, command: str, blob: bytes) -> str:
        """Keep ``blob`` for ``owner_id``'s buttons; the key their custom ids carry."""
        now = self._clock()
        kept_blob, uses = self._blobs.get(blob, (blob, 0))
        self._blobs[kept_blob] = (kept_blob, uses + 1)
        if not uses:
            self.bytes += len(blob)
        key = f"{self._prefix}{next(self._numbers):x}"
        self._lists[key] = KeptList(owner_id, command, kept_blob, now)
        self.bytes += ENTRY_BYTES
        self._forget_old(now)
        return key

    def get(self, key: str) -> KeptList | None:
        """The list behind ``key``; None once it expired or was pushed out by newer ones."""
        kept = self._lists.get(key)
        if kept is None:
            return None
        if self._clock() - kept.kept_at > self._lifetime:
            self._forget_old(self._clock())
            return None
        return kept

    def _forget_old(self, now: datetime) -> None:
        while self._lists:
            key, oldest = next(iter(self._lists.items()))
            if self.bytes <= self._budget and now - oldest.kept_at <= self._lifetime:
                return
            del self._lists[key]
            self.bytes -= ENTRY_BYTES
            _, uses = self._blobs[oldest.blob]
            if uses > 1:
                self._blobs[oldest.blob] = (oldest.blob, uses - 1)
            else:
                del self._blobs[oldest.blob]
                self.bytes -= len(oldest.blob)

    def __len__(self) -> int:
        return len(self._lists)
