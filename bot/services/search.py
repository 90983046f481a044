"""Full-text search and title suggestions that stay fast at a million papers.

Two ideas keep the cost bounded:

* **Candidate windows.** BM25 must score every matching row before it can sort, so a query for
  a very common word ("learning") costs as much as the number of papers holding it. Only the
  newest ``cap`` matches are scored: an unscored walk down the doclist finds the rowid of the
  cap-th newest match (a millisecond or two), and ranking then runs on ``rowid >= floor``, which
  FTS5 applies inside its index scan. For broad queries the newest good matches are the useful
  ones anyway; narrow queries (fewer matches than the cap) are ranked in full.
* **Vocabulary-driven typo tolerance.** Misspelt words are corrected against the words of all
  titles (an in-memory vocabulary) with rapidfuzz, and suggestions come from a title-only
  index whose few dozen candidates rapidfuzz re-ranks against what the user typed. No scan over
  all titles ever runs, so nothing holds the GIL (or the event loop) for long.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.domain.models import DAILY_LIST_SOURCES, Paper
from bot.domain.query import Mode, SearchQuery, alternatives_to_fts, parse_search, to_fts
from bot.domain.text import clean_line, words
from bot.domain.vocabulary import Vocabulary
from bot.storage.papers import PaperRepository, TextHit

# BM25 costs about a microsecond per matching row: these bound the rows ranked per query.
SEARCH_CANDIDATES = 20_000
SUGGESTION_CANDIDATES = 5_000
SUGGESTION_POOL = 100
COMPLETIONS_PER_PREFIX = 5
_CACHE_SIZE = 1024


@dataclass(frozen=True, slots=True)
class SearchHit:
    paper: Paper
    score: float
    snippet: str
    fuzzy: bool = False  # found through spelling correction rather than the words as typed


@dataclass(frozen=True, slots=True)
class Suggestion:
    paper_id: str
    title: str


class SearchEngine:
    def __init__(
        self,
        papers: PaperRepository,
        *,
        search_candidates: int = SEARCH_CANDIDATES,
        suggestion_candidates: int = SUGGESTION_CANDIDATES,
    ) -> None:
        self._papers = papers
        self._search_cap = search_candidates
        self._suggestion_cap = suggestion_candidates
        self._vocabulary = Vocabulary({})
        self._suggestions: OrderedDict[str, list[Suggestion]] = OrderedDict()

    async def refresh(self) -> None:
        """Reload the title vocabulary and forget cached suggestions; call after every ingest.

        Built off the event loop (about 65 ms at a million papers), so gateway heartbeats never wait."""
        terms = await self._papers.title_terms()
        self._vocabulary = await asyncio.to_thread(Vocabulary, terms)
        self._suggestions.clear()

    @property
    def vocabulary(self) -> Vocabulary:
        return self._vocabulary

    # ---- full-text search ------------------------------------------------------------------

    async def search(self, text: str, limit: int = 10) -> list[SearchHit]:
        """Best matches first: all words, then corrected spellings, then any word."""
        query = parse_search(text)
        if not query:
            return []
        found: dict[int, tuple[TextHit, bool]] = {}

        async def take(fts: str, fuzzy: bool) -> None:
            if len(found) >= limit:
                return
            # Scoring a row costs about one position-list read per term: keep the work per query level.
            floor = await self._papers.window_floor(fts, self._search_cap // max(1, query.size))
            for hit in await self._papers.match(fts, limit=limit, min_pk=floor):
                found.setdefault(hit.pk, (hit, fuzzy))

        await take(to_fts(query), False)
        if len(found) < limit:
            corrected = await self._corrected(query)
            if corrected is not None:
                await take(to_fts(corrected), True)
                query = corrected
        if query.size > 1:
            await take(to_fts(query, Mode.ANY), False)

        pks = list(found)[:limit]
        stored = await self._papers.by_pks(pks)
        return [
            SearchHit(stored[pk].paper, found[pk][0].score, clean_line(found[pk][0].snippet), found[pk][1])
            for pk in pks
            if pk in stored
        ]

    async def _corrected(self, query: SearchQuery) -> SearchQuery | None:
        """The query with unknown words replaced by their closest title words, if any changed."""
        unknown = await self._papers.unknown_terms(query.terms)
        changed = False
        terms: list[str] = []
        for term in query.terms:
            if term in unknown:
                options = self._vocabulary.correct(term, limit=1)
                if options:
                    term, changed = options[0], True
            terms.append(term)
        return SearchQuery(tuple(dict.fromkeys(terms)), query.phrases) if changed else None

    # ---- title suggestions (autocomplete) ----------------------------------------------------

    async def suggest(self, typed: str, limit: int = 25) -> list[Suggestion]:
        """Titles for what a user has typed so far, typo tolerant; cached per text until the next ingest."""
        key = clean_line(typed).casefold()[:100]
        if typed[-1:].isspace():
            key += " "  # a finished last word is matched whole, not as a prefix
        cached = self._suggestions.get(key)
        if cached is not None:
            self._suggestions.move_to_end(key)
            return cached[:limit]
        result = await self._suggest(key, limit)
        self._suggestions[key] = result
        if len(self._suggestions) > _CACHE_SIZE:
            self._suggestions.popitem(last=False)
        return result

    async def _suggest(self, typed: str, limit: int) -> list[Suggestion]:
        tokens = words(typed)
        if not tokens:
            hits = await self._papers.newest_titles(limit, DAILY_LIST_SOURCES)
            return [Suggestion(paper_id, title) for paper_id, title in hits]
        groups = self._word_groups(tokens, still_typing=not typed.endswith(" "))
        candidates: dict[int, None] = {}
        # All words; then without the unfinished last word; then any word.
        attempts = [(groups, Mode.ALL)]
        if len(groups) > 1:
            attempts += [(groups[:-1], Mode.ALL), (groups, Mode.ANY)]
        for chosen, mode in attempts:
            if len(candidates) >= limit or not chosen:
                break
            fts = alternatives_to_fts(chosen, mode)
            floor = None
            if mode is Mode.ANY:  # titles holding only some words: let BM25 prefer those with more
                floor = await self._papers.window_floor(fts, self._suggestion_cap, titles_only=True)
            # Titles holding every word need no BM25: rapidfuzz ranks them against the typed text.
            for pk in await self._papers.match_titles(fts, limit=SUGGESTION_POOL, min_pk=floor):
                candidates.setdefault(pk)
        titles = await self._papers.titles(candidates)
        ranked = process.extract(
            typed,
            {pk: title for pk, (_, title) in titles.items()},
            scorer=fuzz.WRatio,
            processor=_fold_for_fuzz,
            limit=limit,
        )
        return [Suggestion(titles[pk][0], titles[pk][1]) for _, _, pk in ranked]

    def _word_groups(self, tokens: list[str], *, still_typing: bool) -> list[list[str]]:
        """For each typed word, the title words it may mean; the last word may be unfinished."""
        groups: list[list[str]] = []
        for index, token in enumerate(tokens):
            if still_typing and index == len(tokens) - 1:
                options = self._vocabulary.complete(
                    token, COMPLETIONS_PER_PREFIX
                ) or self._vocabulary.correct(token)
            else:
                options = self._vocabulary.correct(token)
            if options:
                groups.append(options)
        return groups


def _fold_for_fuzz(text: str) -> str:
    return " ".join(words(text))
