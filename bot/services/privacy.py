"""/privacy forget: delete everything paperbot keeps about a member, in one transaction."""

from __future__ import annotations

from bot.services.follows import FollowService
from bot.storage.connection import Store
from bot.storage.generations import GenerationRepository
from bot.storage.privacy import Forgotten, PrivacyRepository


class PrivacyService:
    def __init__(
        self,
        database: Store,
        repository: PrivacyRepository,
        generations: GenerationRepository,
        follows: FollowService,
    ) -> None:
        self.database = database
        self._repository = repository
        self._generations = generations
        self._follows = follows

    async def forget(self, user_id: int) -> Forgotten:
        """Follows, library, picks settings, servers, alert ledger (all but a DM being sent this
        moment, which finishes once): gone together or not at all."""
        async with self.database.transaction():
            forgotten = await self._repository.forget(user_id)
            # Other processes rebuild their follow index; this one drops it now.
            await self._generations.bump("follows")
        self._follows.forget_index()
        return forgotten
