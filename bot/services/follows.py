"""Keyword follows and their DM alerts.

Matching runs in the ingest's own transaction (a hook on ``PaperService.ingest``): matches become
pending alert rows together with the papers, so an ingest from any process leads to the DMs and a
crash between match and send loses nothing. The running bot drains the queue in batches, one DM
per member; the (member, paper) key means no paper reaches a member twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.alerts import plan_alert
from bot.domain.digest import DigestMessage
from bot.domain.follows import Follow, FollowMatcher, paper_words, parse_keyword, terms_of
from bot.domain.models import ListedPaper, Paper
from bot.domain.schedule import local_date, parse_post_time, parse_timezone, wall_clock
from bot.errors import InvalidInput
from bot.services.papers import PaperService, utcnow
from bot.storage.database import Database
from bot.storage.follows import FOREVER, FollowRepository, Member, StoredFollow
from bot.storage.papers import StoredPaper

log = logging.getLogger(__name__)

RECENT_DAYS = 7


@dataclass(frozen=True, slots=True)
class AddedFollow:
    follow_id: int
    keyword: str
    recent_matches: int
    suggestions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FollowInfo:
    follow_id: int
    keyword: str
    recent_matches: int


@dataclass(frozen=True, slots=True)
class AlertBatch:
    batch_id: int
    user_id: int
    messages: tuple[DigestMessage, ...]
    paper_count: int


class FollowService:
    def __init__(
        self,
        database: Database,
        papers: PaperService,
        *,
        clock: Callable[[], datetime] = utcnow,
        max_follows: int = 25,
    ) -> None:
        self.database = database
        self.repository = FollowRepository(database.connection)
        self._papers = papers
        self._clock = clock
        self.max_follows = max_follows
        self._matcher: FollowMatcher | None = None
        self._owners: dict[int, tuple[int, str]] = {}  # follow id -> (member, keyword)
        self._parsed: dict[tuple[int, str], Follow] = {}  # parsing 100k keywords again is not free
        papers.on_inserted(self._queue_matches)

    # ---- members' commands -----------------------------------------------------------------------

    async def add(self, user_id: int, guild_id: int | None, keyword: str) -> AddedFollow:
        follow = parse_keyword(keyword)
        async with self.database.transaction():
            await self.repository.ensure_member(user_id, guild_id, self._clock())
            existing = await self.repository.follows(user_id)
            if any(f.canonical == follow.key for f in existing):
                raise InvalidInput(f"You already follow “{follow.text}”.")
            if len(existing) >= self.max_follows:
                raise InvalidInput(
                    f"You follow {len(existing)} keywords, the most allowed: "
                    "remove one with /follow remove first."
                )
            follow_id = await self.repository.add_follow(user_id, follow.text, follow.key, self._clock())
            assert follow_id is not None
        self._matcher = None
        recent = await self._recent_matches([follow])
        suggestions = await self._suggestions(follow) if recent[0] == 0 else ()
        return AddedFollow(follow_id, follow.text, recent[0], suggestions)

    async def remove(self, user_id: int, reference: str) -> str:
        """Remove by follow id (what autocomplete sends) or by the keyword itself."""
        follows = await self.repository.follows(user_id)
        chosen = _find(follows, reference)
        if chosen is None:
            raise InvalidInput(f"You don't follow “{reference}”. /follow list shows what you follow.")
        async with self.database.transaction():
            await self.repository.remove_follow(user_id, chosen.id)
        self._matcher = None
        return chosen.keyword

    async def list_follows(self, user_id: int) -> list[FollowInfo]:
        follows = await self.repository.follows(user_id)
        counts = await self._recent_matches([parse_keyword(f.keyword) for f in follows])
        return [FollowInfo(f.id, f.keyword, n) for f, n in zip(follows, counts, strict=True)]

    async def choices(self, user_id: int, typed: str) -> list[StoredFollow]:
        needle = typed.casefold().strip()
        return [f for f in await self.repository.follows(user_id) if needle in f.keyword.casefold()][:25]

    async def member(self, user_id: int) -> Member | None:
        return await self.repository.member(user_id)

    async def pause(self, user_id: int, days: int | None) -> datetime | None:
        until = self._clock() + timedelta(days=days) if days else None
        async with self.database.transaction():
            await self.repository.ensure_member(user_id, None, self._clock())
            await self.repository.update_member(user_id, paused_until=until.isoformat() if until else FOREVER)
        return until

    async def resume(self, user_id: int) -> None:
        async with self.database.transaction():
            await self.repository.ensure_member(user_id, None, self._clock())
            await self.repository.update_member(user_id, paused_until=None)

    async def set_mode(
        self, user_id: int, mode: str, *, at: str | None = None, timezone: str | None = None
    ) -> Member:
        if mode not in ("instant", "daily"):
            raise InvalidInput("Mode is either instant or daily.")
        values: dict[str, object] = {"mode": mode}
        if at is not None:
            values["daily_time"] = parse_post_time(at).strftime("%H:%M")
        if timezone is not None:
            values["timezone"] = parse_timezone(timezone)
        async with self.database.transaction():
            await self.repository.ensure_member(user_id, None, self._clock())
            await self.repository.update_member(user_id, **values)
        member = await self.repository.member(user_id)
        assert member is not None
        return member

    async def take_unreachable_notice(self, user_id: int) -> bool:
        """True once after the bot found the member's DMs closed; sending resumes afterwards."""
        member = await self.repository.member(user_id)
        if member is None or member.unreachable_since is None:
            return False
        async with self.database.transaction():
            await self.repository.update_member(user_id, unreachable_since=None)
        return True

    async def _recent_matches(self, follows: Sequence[Follow]) -> list[int]:
        recent = await self._papers.repository.recent(RECENT_DAYS)
        matcher = FollowMatcher(enumerate(follows))
        counts = [0] * len(follows)
        for stored in recent:
            paper = stored.paper
            for index in matcher.match(paper_words(paper.title, paper.abstract, paper.ai_keywords)):
                counts[index] += 1
        return counts

    async def _suggestions(self, follow: Follow) -> tuple[str, ...]:
        """Close, common title words for the words of a keyword that match nothing."""
        vocabulary = self._papers.search.vocabulary
        words = {w for term in terms_of(follow.query) for w in term.words}
        unknown = await self._papers.repository.unknown_terms(sorted(words))
        found: list[str] = []
        for word in sorted(unknown):
            found += [s for s in vocabulary.correct(word, limit=3) if s != word and s not in found]
        return tuple(found[:5])

    # ---- matching (inside the ingest transaction) -----------------------------------------------

    async def matcher(self) -> FollowMatcher:
        """The index of every follow, rebuilt after follows change (off the event loop: at 100k
        follows it takes most of a second)."""
        if self._matcher is None:
            follows = await self.repository.all_follows()
            parsed = {(f.id, f.keyword): self._parsed.get((f.id, f.keyword)) for f in follows}
            for key, known in parsed.items():
                if known is None:
                    parsed[key] = parse_keyword(key[1])
            self._parsed = {key: follow for key, follow in parsed.items() if follow is not None}
            self._owners = {f.id: (f.user_id, f.keyword) for f in follows}
            entries = [(follow_id, follow) for (follow_id, _), follow in self._parsed.items()]
            self._matcher = await asyncio.to_thread(FollowMatcher, entries)
        return self._matcher

    async def matches(self, papers: Sequence[Paper]) -> list[dict[int, list[str]]]:
        """For each paper: member -> their keywords it matches."""
        matcher = await self.matcher()
        out = []
        for paper in papers:
            by_member: dict[int, list[str]] = defaultdict(list)
            for follow_id in sorted(
                matcher.match(paper_words(paper.title, paper.abstract, paper.ai_keywords))
            ):
                user_id, keyword = self._owners[follow_id]
                by_member[user_id].append(keyword)
            out.append(dict(by_member))
        return out

    async def _queue_matches(self, inserted: Sequence[StoredPaper]) -> None:
        if not inserted:
            return
        matches = await self.matches([s.paper for s in inserted])
        users = {user for found in matches for user in found}
        if not users:
            return
        now = self._clock()
        members = await self.repository.members(sorted(users))
        rows = [
            (user, stored.pk, keywords)
            for stored, found in zip(inserted, matches, strict=True)
            for user, keywords in found.items()
            if not (members.get(user) and members[user].paused_at(now))  # paused: nothing, not later either
        ]
        queued = await self.repository.queue(rows, now)
        log.info("queued %d alerts for %d members", queued, len(users))

    async def preview_matches(
        self, listed: Sequence[ListedPaper]
    ) -> list[tuple[Paper, dict[int, list[str]]]]:
        """Which stored follows these papers would trigger (for `paperbot follows match FILE`)."""
        papers = [item.paper for item in listed]
        return list(zip(papers, await self.matches(papers), strict=True))

    # ---- delivery ---------------------------------------------------------------------------------

    async def due_members(self) -> list[int]:
        """Members whose pending alerts should go out now (instant, or daily at their time)."""
        now = self._clock()
        users = await self.repository.users_with_pending()
        members = await self.repository.members(users)
        due = []
        for user in users:
            member = members.get(user)
            if member is None or member.paused_at(now) or member.unreachable_since:
                continue
            if member.mode == "daily":
                day = local_date(now, member.timezone)
                if now < wall_clock(
                    day, member.daily_time, member.timezone
                ) or await self.repository.daily_batch_sent(user, day):
                    continue
            due.append(user)
        return due

    async def claim(self, user_id: int) -> AlertBatch | None:
        member = await self.repository.member(user_id)
        now = self._clock()
        day = local_date(now, member.timezone) if member and member.mode == "daily" else None
        async with self.database.transaction():
            batch_id, alerts = await self.repository.open_batch(user_id, day, now)
        return await self._batch(batch_id, user_id) if alerts else None

    async def interrupted(self) -> list[AlertBatch]:
        """Batches a previous run began sending: the caller checks the DM channel before resending."""
        batches = []
        for batch_id, user_id in await self.repository.sending_batches():
            batch = await self._batch(batch_id, user_id)
            if batch is not None:
                batches.append(batch)
        return batches

    async def _batch(self, batch_id: int, user_id: int) -> AlertBatch | None:
        alerts = await self.repository.batch_alerts(batch_id)
        stored = await self._papers.repository.by_pks([a.paper_pk for a in alerts])
        items = [(stored[a.paper_pk].paper, a.keywords) for a in alerts if a.paper_pk in stored]
        if not items:
            return None
        return AlertBatch(batch_id, user_id, plan_alert(batch_id, items), len(items))

    async def delivered(self, batch: AlertBatch, message_ids: Sequence[int]) -> None:
        async with self.database.transaction():
            await self.repository.finish_batch(batch.batch_id, message_ids, self._clock())

    async def undeliverable(self, batch: AlertBatch, *, dms_closed: bool) -> None:
        """Put the alerts back in the queue; with DMs closed, stop sending until the member returns."""
        async with self.database.transaction():
            await self.repository.reopen_batch(batch.batch_id)
            if dms_closed:
                await self.repository.update_member(
                    batch.user_id, unreachable_since=self._clock().isoformat()
                )

    async def member_guilds(self, user_id: int) -> list[int]:
        return await self.repository.member_guilds(user_id)

    async def left_guild(self, user_id: int, guild_id: int) -> bool:
        """Forget a server the member left; True when no shared server remains (alerts stop)."""
        async with self.database.transaction():
            await self.repository.forget_guild(user_id, guild_id)
            if await self.repository.member_guilds(user_id):
                return False
            await self.repository.drop_pending(user_id)
        return True


def _find(follows: Sequence[StoredFollow], reference: str) -> StoredFollow | None:
    reference = reference.strip()
    if reference.isdigit():
        for follow in follows:
            if follow.id == int(reference):
                return follow
    try:
        key = parse_keyword(reference).key
    except InvalidInput:
        return None
    return next((f for f in follows if f.canonical == key), None)
