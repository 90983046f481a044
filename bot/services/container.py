"""The services a running bot holds, built once in the entry point."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.papers import PaperService
from bot.storage.database import Database


@dataclass(slots=True)
class Services:
    database: Database
    papers: PaperService

    @classmethod
    async def open(cls, database: Database) -> Services:
        papers = PaperService(database)
        await papers.start()
        return cls(database=database, papers=papers)
