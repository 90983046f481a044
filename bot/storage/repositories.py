"""Every repository over one database, built once and injected into the services that need them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.storage.connection import Store
from bot.storage.coverage import CoverageRepository
from bot.storage.digest_notices import DigestNoticeRepository
from bot.storage.digests import DigestRepository
from bot.storage.fetches import FetchLogRepository
from bot.storage.follows import FollowRepository
from bot.storage.generations import GenerationRepository
from bot.storage.leases import LeaseRepository
from bot.storage.library import LibraryRepository
from bot.storage.momentum import MomentumRepository
from bot.storage.notice_batches import NoticeBatchRepository
from bot.storage.papers import PaperRepository
from bot.storage.people import PeopleRepository
from bot.storage.privacy import PrivacyRepository
from bot.storage.server_time import ServerTimeRepository
from bot.storage.shard_claims import ShardClaimRepository
from bot.storage.similar import TermIndex
from bot.storage.votes import VoteRepository


@dataclass(frozen=True, slots=True)
class Repositories:
    papers: PaperRepository
    digests: DigestRepository
    digest_notices: DigestNoticeRepository
    notice_batches: NoticeBatchRepository
    follows: FollowRepository
    fetches: FetchLogRepository
    generations: GenerationRepository
    momentum: MomentumRepository
    leases: LeaseRepository
    coverage: CoverageRepository
    library: LibraryRepository
    privacy: PrivacyRepository
    terms: TermIndex
    people: PeopleRepository
    votes: VoteRepository
    shard_claims: ShardClaimRepository
    server_time: ServerTimeRepository

    @classmethod
    def of(cls, database: Store) -> Repositories:
        connection = database.connection
        return cls(
            papers=PaperRepository(connection),
            digests=DigestRepository(connection),
            digest_notices=DigestNoticeRepository(connection),
            notice_batches=NoticeBatchRepository(connection),
            follows=FollowRepository(connection),
            fetches=FetchLogRepository(connection),
            generations=GenerationRepository(connection),
            momentum=MomentumRepository(connection),
            leases=LeaseRepository(connection),
            coverage=CoverageRepository(connection),
            library=LibraryRepository(connection),
            privacy=PrivacyRepository(connection),
            terms=TermIndex(connection),
            people=PeopleRepository(connection),
            votes=VoteRepository(connection),
            shard_claims=ShardClaimRepository(connection),
            server_time=ServerTimeRepository(connection),
        )
