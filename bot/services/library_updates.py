"""Telling members when a paper they saved changes: a new arXiv version, or code released.

Like follow matching, this runs inside the ingest's transaction (hooks on ``PaperService``, wired
by the container), so it covers every ingest: the schedule, the momentum refresh, a post's
re-fetch and the CLI. The change and the queued rows commit together (a crash between them loses
nothing), and the ledger's key (member, paper, change) tells each member once, however often the
same version or link is seen again. Delivery is the alert DM's (``bot.services.alerts``): the same
grouped DM, batch and mode (instant or daily). A pause holds the DM: unlike keyword matches,
which a pause drops, a change to a saved paper is told once the member resumes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from bot.domain.alerts import CODE_RELEASED, version_change
from bot.storage.follows import FollowRepository
from bot.storage.library import LibraryRepository
from bot.storage.papers import StoredPaper

log = logging.getLogger(__name__)


class LibraryUpdates:
    def __init__(
        self, library: LibraryRepository, alerts: FollowRepository, *, clock: Callable[[], datetime]
    ) -> None:
        self._library = library
        self._alerts = alerts
        self._clock = clock

    async def queue_new_versions(self, papers: Sequence[StoredPaper]) -> None:
        """Papers whose arXiv version went up: ``new version vN`` to those who saved them."""
        await self._queue([(s.pk, version_change(s.paper.arxiv_version or 1)) for s in papers])

    async def queue_code_released(self, papers: Sequence[StoredPaper]) -> None:
        """Papers that just gained a code link: ``code released`` to those who saved them."""
        await self._queue([(s.pk, CODE_RELEASED) for s in papers])

    async def _queue(self, changes: Sequence[tuple[int, str]]) -> None:
        if not changes:
            return
        savers: dict[int, list[int]] = {}
        for user_id, paper_pk in await self._library.savers([pk for pk, _ in changes]):
            savers.setdefault(paper_pk, []).append(user_id)
        rows = [(user, pk, change) for pk, change in changes for user in savers.get(pk, ())]
        if rows:
            queued = await self._alerts.queue_changes(rows, self._clock())
            log.info("queued %d saved-paper updates", queued)
