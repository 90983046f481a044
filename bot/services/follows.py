"""Keyword follows and matching them against new papers.

Matching runs in the ingest's own transaction (a hook on ``PaperService.ingest``, wired by the
container): matches become pending alert rows together with the papers, so an ingest from any
process leads to the DMs and a crash between match and send loses nothing. Delivering them is
``bot.services.alerts``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.domain.follows import Follow, FollowMatcher, paper_words, parse_keyword, terms_of
from bot.domain.lookalikes import refuse_lookalikes
from bot.domain.models import ListedPaper, Paper
from bot.domain.people import Credits, PersonFollow, PersonKind
from bot.domain.recent_words import RecentWords
from bot.domain.schedule import parse_post_time, parse_timezone
from bot.errors import InvalidInput
from bot.services.papers import utcnow
from bot.services.search import SearchEngine
from bot.storage.connection import Store
from bot.storage.follows import FOREVER, FollowRepository, Member, StoredFollow
from bot.storage.generations import GenerationRepository
from bot.storage.papers import PaperRepository, StoredPaper
from bot.storage.people import KnownPerson, PeopleRepository

log = logging.getLogger(__name__)

RECENT_DAYS = 7
# Appended to a keyword's canonical form for "code:yes" follows: it never occurs in a canonical
# query (those hold folded words, quotes, parentheses, AND/OR and "-"), so both can coexist.
CODE_ONLY = " +code"
# What /follow remove's autocomplete sends for a follow: its id behind an unclosed quote, a form
# no keyword can take (parse_keyword refuses it), so text a member types is always a keyword, a
# year such as 2024 included (typed digits were read as a follow id first).
_CHOSEN_FOLLOW = re.compile(r'"follow #(\d+)')


def chosen_follow(follow_id: int) -> str:
    """The autocomplete's value for a follow (see _CHOSEN_FOLLOW)."""
    return f'"follow #{follow_id}'


@dataclass(frozen=True, slots=True)
class AddedFollow:
    follow_id: int
    keyword: str
    recent_matches: int
    suggestions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FollowInfo:
    follow_id: int
    keyword: str  # for authors and organisations: the label, ``author Yann LeCun (@ylecun)``
    recent_matches: int
    kind: str = "keyword"  # or PersonKind
    code_only: bool = False  # alert only once the paper links its code


class FollowService:
    def __init__(
        self,
        database: Store,
        repository: FollowRepository,
        papers: PaperRepository,
        search: SearchEngine,
        *,
        clock: Callable[[], datetime] = utcnow,
        max_follows: int = 25,
        generations: GenerationRepository | None = None,
        people: PeopleRepository | None = None,
    ) -> None:
        self.database = database
        self._people = people or PeopleRepository.of(database)
        self._person_follows: list[tuple[int, int, PersonFollow]] = []  # follow id, member, follow
        self._generations = generations or GenerationRepository.of(database)
        self._generation = -1  # of the follows the matcher was built from
        self.repository = repository
        self._papers = papers
        self._search = search
        self._clock = clock
        self.max_follows = max_follows
        self._matcher: FollowMatcher | None = None
        self._owners: dict[int, tuple[int, str]] = {}  # follow id -> (member, keyword as the DM says it)
        self._code_only: set[int] = set()  # follow ids of "code:yes" follows
        self._parsed: dict[tuple[int, str], Follow] = {}  # parsing 100k keywords again is not free
        # The recent papers' words for "recent matches": (papers generation, newest list date) they
        # were read at, the index, and pk -> (content hash, words) so a refresh folds only what changed.
        self._recent_lock = asyncio.Lock()
        self._recent_key: tuple[int, date | None] | None = None
        self._recent: RecentWords | None = None
        self._recent_folded: dict[int, tuple[str, tuple[str, ...]]] = {}

    # ---- members' commands -----------------------------------------------------------------------

    async def add(
        self, user_id: int, guild_id: int | None, keyword: str, *, code_only: bool = False
    ) -> AddedFollow:
        """Follow a keyword; ``code_only``: hear about a matching paper only once it links its code
        (at once if it already does, else when a later fetch brings the link)."""
        follow = parse_keyword(keyword)
        refuse_lookalikes(follow.text)
        canonical = follow.key + (CODE_ONLY if code_only else "")
        follow_id = await self._store(user_id, guild_id, follow.text, canonical)
        recent = await self._recent_matches([follow])
        suggestions = await self._suggestions(follow) if recent[0] == 0 else ()
        return AddedFollow(follow_id, follow.text, recent[0], suggestions)

    async def add_person(
        self, user_id: int, guild_id: int | None, kind: PersonKind, name: str
    ) -> AddedFollow:
        """Follow an author or organisation (``Name`` or ``Name (@hf_id)`` as autocomplete offers)."""
        follow = PersonFollow.parse(kind, name)
        follow_id = await self._store(user_id, guild_id, name.strip(), follow.canonical)
        recent = await self._recent_person_matches([follow])
        return AddedFollow(follow_id, follow.label, recent[0], ())

    async def known_people(self, kind: PersonKind, typed: str, *, limit: int = 25) -> list[KnownPerson]:
        return await self._people.known(kind, typed, limit=limit)

    async def _store(self, user_id: int, guild_id: int | None, text: str, canonical: str) -> int:
        async with self.database.transaction():
            await self.repository.hold_follow_limit(user_id)
            await self.repository.ensure_member(user_id, guild_id, self._clock())
            existing = await self.repository.follows(user_id)
            if any(_key_of(f) == canonical for f in existing):
                raise InvalidInput(f"You already follow “{text}”.")
            if len(existing) >= self.max_follows:
                raise InvalidInput(
                    f"You follow {len(existing)} keywords, authors and organisations, the most allowed: "
                    "remove one with /follow remove first."
                )
            follow_id = await self.repository.add_follow(user_id, text, canonical, self._clock())
            assert follow_id is not None
            await self._generations.bump("follows")
        self._matcher = None
        return follow_id

    async def remove(self, user_id: int, reference: str) -> str:
        """Remove the follow autocomplete chose (``chosen_follow``) or the one typed (its keyword, or
        an author's or organisation's label)."""
        if not reference.strip():
            raise InvalidInput("Give the keyword to stop following (start typing to see yours).")
        follows = await self.repository.follows(user_id)
        chosen = _find(follows, reference)
        if chosen is None:
            raise InvalidInput(f"You don't follow “{reference}”. /follow list shows what you follow.")
        async with self.database.transaction():
            await self.repository.remove_follow(user_id, chosen.id)
            label = _alert_label(chosen)
            # Alerts not yet delivered stop naming it; those it alone explained are never sent.
            if all(_alert_label(f) != label for f in follows if f.id != chosen.id):
                await self.repository.unmatch(user_id, label)
            await self._generations.bump("follows")
        self._matcher = None
        return chosen.keyword

    async def list_follows(self, user_id: int) -> list[FollowInfo]:
        """Keyword follows, then author and organisation follows (labelled ``author …``/``org …``)."""
        follows = await self.repository.follows(user_id)
        keywords = [f for f in follows if person_of(f) is None]
        people = [(f, p) for f in follows if (p := person_of(f)) is not None]
        counts = await self._recent_matches([parse_keyword(f.keyword) for f in keywords])
        person_counts = await self._recent_person_matches([p for _, p in people])
        return [
            FollowInfo(f.id, f.keyword, n, code_only=f.canonical.endswith(CODE_ONLY))
            for f, n in zip(keywords, counts, strict=True)
        ] + [FollowInfo(f.id, p.label, n, p.kind) for (f, p), n in zip(people, person_counts, strict=True)]

    async def choices(self, user_id: int, typed: str) -> list[tuple[StoredFollow, str]]:
        """Follows whose text or label holds ``typed``, with the label to show."""
        needle = typed.casefold().strip()
        found = []
        for follow in await self.repository.follows(user_id):
            person = person_of(follow)
            label = person.label if person else follow.keyword
            if needle in label.casefold() or needle in follow.keyword.casefold():
                found.append((follow, label))
        return found[:25]

    async def member(self, user_id: int) -> Member | None:
        return await self.repository.member(user_id)

    async def pause(self, user_id: int, days: int | None) -> datetime | None:
        until = self._clock() + timedelta(days=days) if days else None
        async with self.database.transaction():
            await self.repository.ensure_member(user_id, None, self._clock())
            await self.repository.update_member(user_id, paused_until=until.isoformat() if until else FOREVER)
            await self.repository.drop_follow_matches(user_id)
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
        recent = await self._recent_words()
        return [recent.count(follow) for follow in follows]

    async def _recent_words(self) -> RecentWords:
        """The recent papers' words, indexed. Read again only when papers changed or the latest
        list moved (the papers generation and the newest list date say so, also for another
        process's ingest); then only papers new or changed since are folded, and that work and the
        indexing run in a worker thread: folding ~2,000 papers took the event loop for 0.2-0.8 s
        on every /follow add and /follow list, and an ingest of new days replaces most of them."""
        async with self._recent_lock:
            key = (await self._generations.current("papers"), await self._papers.newest_list_date())
            if self._recent is not None and key == self._recent_key:
                return self._recent
            versions = await self._papers.recent_versions(RECENT_DAYS)
            known = self._recent_folded
            stale = [pk for pk, version in versions if known.get(pk, ("",))[0] != version]
            texts = await self._papers.matched_texts(stale)
            recent, self._recent_folded = await asyncio.to_thread(_index_recent, versions, texts, known)
            self._recent, self._recent_key = recent, key
            return recent

    async def _recent_person_matches(self, follows: Sequence[PersonFollow]) -> list[int]:
        if not follows:
            return []
        recent = await self._papers.recent(RECENT_DAYS)
        credits = await self._people.credits([s.pk for s in recent])
        return [
            sum(follow.matches(s.paper.authors, s.paper.organization, credits.get(s.pk)) for s in recent)
            for follow in follows
        ]

    async def _suggestions(self, follow: Follow) -> tuple[str, ...]:
        """Close, common title words for the words of a keyword that match nothing."""
        vocabulary = self._search.vocabulary
        words = {w for term in terms_of(follow.query) for w in term.words}
        unknown = await self._papers.unknown_terms(sorted(words))
        found: list[str] = []
        for word in sorted(unknown):
            found += [s for s in vocabulary.correct(word, limit=3) if s != word and s not in found]
        return tuple(found[:5])

    # ---- matching (inside the ingest transaction) -----------------------------------------------

    async def matcher(self) -> FollowMatcher:
        """The index of every follow, rebuilt after follows change (off the event loop: at 100k
        follows it takes most of a second)."""
        if self._matcher is None:
            self._generation = await self._generations.current("follows")
            everything = await self.repository.all_follows()
            follows = [f for f in everything if person_of(f) is None]
            self._person_follows = [
                (f.id, f.user_id, person) for f in everything if (person := person_of(f)) is not None
            ]
            parsed = {(f.id, f.keyword): self._parsed.get((f.id, f.keyword)) for f in follows}
            for key, known in parsed.items():
                if known is None:
                    parsed[key] = parse_keyword(key[1])
            self._parsed = {key: follow for key, follow in parsed.items() if follow is not None}
            self._owners = {f.id: (f.user_id, _label(f)) for f in follows}
            self._code_only = {f.id for f in follows if f.canonical.endswith(CODE_ONLY)}
            entries = [(follow_id, follow) for (follow_id, _), follow in self._parsed.items()]
            self._matcher = await asyncio.to_thread(FollowMatcher, entries)
        return self._matcher

    def forget_index(self) -> None:
        """Follows changed behind this service's back (a member forgotten): rebuild at the next match."""
        self._matcher = None

    async def refresh_if_changed(self) -> bool:
        """Forget the follow index if follows changed since it was built, also in another process
        (a second bot process): the next match rebuilds it. True if it was stale."""
        if self._matcher is None or await self._generations.current("follows") == self._generation:
            return False
        self._matcher = None
        return True

    async def matches(
        self,
        papers: Sequence[Paper],
        credits: Sequence[Credits | None] | None = None,
        *,
        code_linked: bool = False,
    ) -> list[dict[int, list[str]]]:
        """For each paper: member -> what it matched of theirs (keywords, then ``author …``/``org …``
        labels). ``credits``: each paper's HF credits, for claimed authors. "code:yes" follows
        match only papers with a code link; ``code_linked`` (papers that just gained one): only they."""
        matcher = await self.matcher()
        out = []
        for index, paper in enumerate(papers):
            by_member: dict[int, list[str]] = defaultdict(list)
            for follow_id in sorted(
                matcher.match(paper_words(paper.title, paper.abstract, paper.ai_keywords))
            ):
                wants_code = follow_id in self._code_only
                if (wants_code and not paper.code_url) or (code_linked and not wants_code):
                    continue
                user_id, keyword = self._owners[follow_id]
                by_member[user_id].append(keyword)
            credit = credits[index] if credits else None
            for _, user_id, person in () if code_linked else self._person_follows:
                if person.matches(paper.authors, paper.organization, credit):
                    by_member[user_id].append(person.label)
            out.append(dict(by_member))
        return out

    async def queue_matches(self, inserted: Sequence[StoredPaper]) -> None:
        await self._queue(inserted, code_linked=False)

    async def queue_code_linked(self, papers: Sequence[StoredPaper]) -> None:
        """Stored papers that just gained a code link: the "code:yes" follows they match hear now
        (a paper already sent to the member is never sent again: the alert ledger's key)."""
        await self._queue(papers, code_linked=True)

    async def _queue(self, inserted: Sequence[StoredPaper], *, code_linked: bool) -> None:
        if not inserted:
            return
        credits = await self._people.credits([s.pk for s in inserted])
        matches = await self.matches(
            [s.paper for s in inserted], [credits.get(s.pk) for s in inserted], code_linked=code_linked
        )
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
        found = await self.matches(papers, [item.credits for item in listed])
        return list(zip(papers, found, strict=True))


def _index_recent(
    versions: Sequence[tuple[int, str]],
    texts: dict[int, tuple[str, str, tuple[str, ...]]],
    known: dict[int, tuple[str, tuple[str, ...]]],
) -> tuple[RecentWords, dict[int, tuple[str, tuple[str, ...]]]]:
    """Index the recent papers (``versions``: pk and content hash, newest first), folding only
    those whose words ``known`` (pk -> (content hash, words)) does not hold. A paper missing from
    ``texts`` as well went away between the two reads: left out, as a fresh read would."""
    folded: dict[int, tuple[str, tuple[str, ...]]] = {}
    for pk, version in versions:
        cached = known.get(pk)
        if cached is not None and cached[0] == version:
            folded[pk] = cached
        elif (text := texts.get(pk)) is not None:
            folded[pk] = (version, paper_words(*text))
    return RecentWords([words for _, words in folded.values()]), folded


def _label(follow: StoredFollow) -> str:
    """How an alert names a keyword follow."""
    return f"{follow.keyword} (with code)" if follow.canonical.endswith(CODE_ONLY) else follow.keyword


def _alert_label(follow: StoredFollow) -> str:
    """How alerts name what a follow matched (as ``matches`` says it)."""
    person = person_of(follow)
    return person.label if person else _label(follow)


def person_of(follow: StoredFollow) -> PersonFollow | None:
    """The author or organisation a stored follow means (None: a keyword follow)."""
    person = PersonFollow.from_canonical(follow.canonical, follow.keyword)
    return PersonFollow.parse(person.kind, follow.keyword) if person else None


def _find(follows: Sequence[StoredFollow], reference: str) -> StoredFollow | None:
    reference = reference.strip()
    chosen = _CHOSEN_FOLLOW.fullmatch(reference)
    if chosen is not None:
        return next((follow for follow in follows if follow.id == int(chosen[1])), None)
    try:
        key = parse_keyword(reference).key
    except InvalidInput:
        key = None
    by_text = reference.casefold()
    return next(
        (f for f in follows if _key_of(f).removesuffix(CODE_ONLY) == key or by_text in _names(f)), None
    )


def _key_of(follow: StoredFollow) -> str:
    """The follow's canonical form: for keywords, the query under today's grammar (the stored one
    may predate a change), with the code-only mark; for authors and organisations, the stored key."""
    if person_of(follow) is not None:
        return follow.canonical
    try:
        key = parse_keyword(follow.keyword).key
    except InvalidInput:
        return follow.canonical
    return key + (CODE_ONLY if follow.canonical.endswith(CODE_ONLY) else "")


def _names(follow: StoredFollow) -> set[str]:
    """What a member may type to mean a follow: its text, and an author's or organisation's label."""
    person = person_of(follow)
    return {follow.keyword.casefold()} | ({person.label.casefold()} if person else set())
