"""Full-text search and title suggestions that stay fast at a million papers.

What keeps the cost bounded:

* **Candidate windows.** BM25 must score every matching row before it can sort, so a query for
  a very common word ("learning") costs as much as the number of papers holding it. Only the
  newest ``cap`` matches are scored: an unscored walk down the doclist finds the rowid of the
  cap-th newest match (a millisecond or two), and ranking then runs on ``rowid >= floor``, which
  FTS5 applies inside its index scan. For broad queries the newest good matches are the useful
  ones anyway; narrow queries (fewer matches than the cap) are ranked in full.
* **Phrase first.** Papers holding a multi-word query's words side by side, as one phrase, rank
  before papers that only hold them somewhere; each group in BM25 order. On the real Daily Papers
  (``python -m bench search-quality``, HF's keywords as labels) this alone lifted P@10 from 0.166
  to 0.244, and weighting title and abstract alike (below) to 0.294, against 0.195 for plain BM25.
* **Common words filter but do not score.** bm25() gives a word half the papers hold an IDF of
  1e-6, yet walks its whole doclist to find that out ("to" at a million papers: 35 ms a query).
  Such words are left out of the ranked query's score while every match must still hold them:
  scores move by less than 2.2e-6 a word (``_scored``).
* **Vocabulary-driven typo tolerance.** Misspelt words are corrected against the words of all
  titles (an in-memory vocabulary) with rapidfuzz, and suggestions come from a title-only
  index whose few dozen candidates rapidfuzz re-ranks against what the user typed. No scan over
  all titles ever runs, so nothing holds the GIL (or the event loop) for long.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, replace

from rapidfuzz import fuzz, process

from bot.domain.models import DAILY_LIST_SOURCES, Paper
from bot.domain.query import Mode, SearchQuery, alternatives_to_fts, as_one_phrase, searchable, to_fts
from bot.domain.text import clean_line, folded_words, snippet, words
from bot.domain.vocabulary import Vocabulary
from bot.services.answer_cache import AnswerCache
from bot.storage.papers import PaperRepository, Weights

# BM25 costs about a microsecond per matching row: these bound the rows ranked per query.
SEARCH_CANDIDATES = 20_000
SUGGESTION_CANDIDATES = 5_000
# PostgreSQL pays about three microseconds of server CPU a candidate (finding the window reads each
# newer row and tests its search vector, ranking reads it again and runs ts_rank_cd): 126 ms for a
# common word's 20,000 at 100k papers. Its windows hold a quarter as many for the same work a query
# (python -m bench search --backend postgres; docs/performance.md).
POSTGRES_SEARCH_CANDIDATES = SEARCH_CANDIDATES // 4
POSTGRES_SUGGESTION_CANDIDATES = SUGGESTION_CANDIDATES // 4
SUGGESTION_POOL = 100
COMPLETIONS_PER_PREFIX = 5
ANSWER_CACHE_SIZE = 1024  # answers kept per kind (search results, title suggestions) until the next ingest
COUNT_CAP = 10_000
HALF_HELD_CACHE = 100_000  # words remembered as common or not (a few MB at most) until the papers change
# bm25() weights of title, abstract and authors. Title and abstract alike measured best on real papers
# (P@10 0.294 against 0.244 with the title 10 times the abstract, 0.278 at twice: bench search-quality);
# a title is short, so BM25's length normalisation already favours a word found there. Authors weigh
# more so that a name finds its author's papers before papers that merely mention the name.
SEARCH_WEIGHTS: Weights = (1.0, 1.0, 4.0)


@dataclass(frozen=True, slots=True)
class SearchHit:
    paper: Paper
    score: float
    snippet: str
    fuzzy: bool = False  # found through spelling correction rather than the words as typed
    phrase: bool = False  # holds the query's words side by side (these come first)


@dataclass(frozen=True, slots=True)
class SearchResults:
    hits: list[SearchHit]
    total: int  # papers the query matches, up to COUNT_CAP (counting further would cost a full scan)
    correction: str | None = None  # the spelling-corrected query the hits are for, if any
    some_words: bool = False  # no paper holds every word: these hold some of them

    def count_text(self) -> str:
        """``3``, ``10 of 43``, ``10 of 10,000+``."""
        total = f"{self.total:,}" + ("+" if self.total >= COUNT_CAP else "")
        return str(len(self.hits)) if self.total <= len(self.hits) else f"{len(self.hits)} of {total}"


# Kept search results hold whole papers (abstracts, authors, links): 1,024 of them were ~30 MB of
# objects the garbage collector walked. The rendered answers the cog keeps serve repeats first.
RESULTS_BUDGET_BYTES = 8 * 1024 * 1024
HIT_BYTES = 1200  # a hit's objects besides its texts (paper fields, tuples, headers), measured roughly


def results_weight(results: SearchResults) -> int:
    """About what ``results`` hold in memory: their texts and a fixed cost per hit."""
    return sum(
        HIT_BYTES + len(hit.paper.title) + len(hit.paper.abstract) + len(hit.snippet) for hit in results.hits
    )


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
        weights: Weights = SEARCH_WEIGHTS,
        phrase_first: bool = True,
        answer_cache: int = ANSWER_CACHE_SIZE,
    ) -> None:
        self._papers = papers
        self._weights = weights
        self._phrase_first = phrase_first  # off only to measure what it is worth (bench search-quality)
        self._search_cap = search_candidates
        self._suggestion_cap = suggestion_candidates
        self._vocabulary = Vocabulary({})
        # Whether half the papers hold a word (see ``_scored``): looked up once per word until the
        # papers change (a seek a word in the counts the ingest keeps; a ranked query then saves
        # the word's IDF walk, 35 ms for "to" at a million papers).
        self._half_held: dict[str, bool] = {}
        self._suggestions: AnswerCache[str, list[Suggestion]] = AnswerCache(answer_cache)
        # A member's search answered again: under load most searches are ones asked a moment ago
        # (a popular topic, a page asked again), and ranking one costs ~10 CPU ms at 100k papers.
        self._results: AnswerCache[tuple[SearchQuery, int], SearchResults] = AnswerCache(
            answer_cache, budget_bytes=RESULTS_BUDGET_BYTES, weigh=results_weight
        )

    async def refresh(self) -> None:
        """Load the whole title vocabulary and forget cached suggestions (at start).

        Built off the event loop (about 65 ms at a million papers), so gateway heartbeats never wait."""
        terms = await self._papers.title_terms()
        self._vocabulary = await asyncio.to_thread(Vocabulary, terms)
        self._half_held.clear()
        self.forget_answers()

    async def learn(self, changed: Mapping[str, int]) -> None:
        """Take in words whose title counts an ingest changed (0: gone) and forget cached search
        results and suggestions, which may now miss new papers. Only the change is applied, off the
        event loop."""
        if changed:
            self._vocabulary = await asyncio.to_thread(self._vocabulary.with_counts, changed)
        self._half_held.clear()
        self.forget_answers()

    def forget_answers(self) -> None:
        """Answer every search and suggestion afresh (the papers changed; a benchmark measures the work)."""
        self._suggestions.clear()
        self._results.clear()

    @property
    def answers_epoch(self) -> int:
        """Changes whenever cached answers are forgotten: what a rendering of one is checked by."""
        return self._results.epoch

    @property
    def vocabulary(self) -> Vocabulary:
        return self._vocabulary

    @property
    def windows(self) -> tuple[int, int]:
        """How many of the newest matches a search, and a suggestion's any-word pass, rank."""
        return self._search_cap, self._suggestion_cap

    # ---- full-text search ------------------------------------------------------------------

    async def search(self, text: str, limit: int = 10) -> list[SearchHit]:
        """The best ``limit`` matches, best first (see ``find``)."""
        return (await self.find(text, limit)).hits

    async def find(self, text: str, limit: int = 10) -> SearchResults:
        """The best matches of one pass, best first, with how many papers that pass matches.

        Passes, the first with any match wins: all the words as typed; all the words with unknown
        ones spelling-corrected (hits marked fuzzy, the correction reported); any of the words.
        Results never mix passes, so their BM25 scores are comparable and in order (within the
        phrase group, then within the rest). A search asked again is answered from memory until
        the papers change.
        """
        query = searchable(text)  # text without a word to look for is told so (InvalidInput)
        cached = self._results.get((query, limit))
        if cached is not None:
            return cached
        since = self._results.epoch
        results = await self._find(query, limit)
        self._results.put((query, limit), results, since=since)
        return results

    async def _find(self, query: SearchQuery, limit: int) -> SearchResults:
        found = await self._pass(query, Mode.ALL, None, limit)
        corrected: SearchQuery | None = None
        if found is None:  # spelling is only looked at when the words as typed find nothing
            corrected = await self._corrected(query)
            if corrected is not None:
                found = await self._pass(corrected, Mode.ALL, corrected.text(), limit)
        if found is None and query.loose > 1:
            loosest = corrected or query
            found = await self._pass(loosest, Mode.ANY, corrected.text() if corrected else None, limit)
        return found or SearchResults([], 0)

    async def _pass(
        self, query: SearchQuery, mode: Mode, correction: str | None, limit: int
    ) -> SearchResults | None:
        """One pass's best ``limit`` matches and their count, or None when nothing matches.

        Papers holding the words as one phrase come first (each group best BM25 first): a reader
        who types ``diffusion models`` means the phrase more often than the two words apart."""
        fts = to_fts(query, mode)
        together = as_one_phrase(query) if mode is Mode.ALL and self._phrase_first else None
        # Scoring a row costs about one position-list read per term: keep the work per query level.
        best = await self._papers.best_of_window(
            fts,
            self._search_cap // max(1, query.size),
            count_cap=COUNT_CAP,
            limit=limit,
            weights=self._weights,
            phrase=to_fts(together) if together is not None else None,  # within the same window
            scored=await self._scored(query) if mode is Mode.ALL else None,
        )
        if not best.window.total:
            return None
        first = best.phrased
        phrased = {hit.pk for hit in first}
        # The phrase alone may fill no page: the other matches make up the rest.
        found = first + [hit for hit in best.ranked if hit.pk not in phrased][: limit - len(first)]
        if not found:
            return None
        stored = await self._papers.by_pks(hit.pk for hit in found)
        terms = query.all_words()
        hits = [
            SearchHit(
                stored[h.pk].paper,
                h.score,
                snippet(stored[h.pk].paper.abstract, terms),
                correction is not None,
                h.pk in phrased,
            )
            for h in found
            if h.pk in stored
        ]
        return SearchResults(hits, best.window.total, correction, some_words=mode is Mode.ANY)

    async def _scored(self, query: SearchQuery) -> str | None:
        """What to score the matches of all of ``query``'s words by: the query without the words
        half the papers or more hold, or None to score it whole (no such word, or nothing else).

        bm25() gives those words an IDF of 1e-6, so each adds less than 2.2e-6 to a score while its
        IDF costs a walk of its whole doclist ("models" and "to" at a million papers: 64 of the 108
        CPU ms of a seven-word query). Left out, every score moves by less than 2.2e-6 a word: the
        same papers in the same order but for ties closer than that
        (tests/services/test_search_common_words.py). Only an all-words pass: with any word
        enough, a common word's own matches belong to the answer."""
        if query.size < 2:  # nothing else to score by, whether the word is common or not
            return None
        unknown = [term for term in query.terms if term not in self._half_held]
        if unknown:
            if len(self._half_held) > HALF_HELD_CACHE:
                self._half_held.clear()
            common = await self._papers.half_held(unknown)
            self._half_held.update((term, term in common) for term in unknown)
        kept = tuple(term for term in query.terms if not self._half_held.get(term, False))
        if len(kept) == len(query.terms) or not (kept or query.phrases or query.required):
            return None
        return to_fts(replace(query, terms=kept))

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
        return replace(query, terms=tuple(dict.fromkeys(terms))) if changed else None

    # ---- title suggestions (autocomplete) ----------------------------------------------------

    async def suggest(self, typed: str, limit: int = 25) -> list[Suggestion]:
        """Titles for what a user has typed so far, typo tolerant; cached per text until the next ingest."""
        key = clean_line(typed).casefold()[:100]
        if typed[-1:].isspace():
            key += " "  # a finished last word is matched whole, not as a prefix
        cached = self._suggestions.get(key)
        if cached is not None:
            return cached[:limit]
        since = self._suggestions.epoch
        result = await self._suggest(key, limit)
        self._suggestions.put(key, result, since=since)
        return result

    async def _suggest(self, typed: str, limit: int) -> list[Suggestion]:
        tokens = words(typed)
        if not tokens:
            hits = await self._papers.newest_titles(limit, DAILY_LIST_SOURCES)
            return [Suggestion(paper_id, title) for paper_id, title in hits]
        groups = self._word_groups(tokens, still_typing=not typed.endswith(" "))
        candidates: dict[int, None] = {}
        # Titles that start with the first word and hold the rest (they rank first, and a common
        # word must not crowd them out of the pool); all words; without the unfinished last word;
        # then any word.
        exact = [[token] for token in tokens]  # the words as typed, before completion or correction
        attempts = [(exact, Mode.ALL, True), (groups, Mode.ALL, True), (groups, Mode.ALL, False)]
        if len(groups) > 1:
            attempts += [(groups[:-1], Mode.ALL, False), (groups, Mode.ANY, False)]
        for chosen, mode, anchored in attempts:
            if len(candidates) >= limit or not chosen:
                if anchored:
                    continue
                break
            fts = alternatives_to_fts(chosen, mode, anchored=anchored)
            floor = None
            if mode is Mode.ANY:  # titles holding only some words: let BM25 prefer those with more
                floor = await self._papers.window_floor(fts, self._suggestion_cap, titles_only=True)
            # Titles holding every word need no BM25: rapidfuzz ranks them against the typed text.
            for pk in await self._papers.match_titles(fts, limit=SUGGESTION_POOL, min_pk=floor):
                candidates.setdefault(pk)
        titles = await self._papers.titles(candidates)
        scored = process.extract(
            typed,
            {pk: title for pk, (_, title) in titles.items()},
            scorer=fuzz.WRatio,
            processor=_fold_for_fuzz,
            limit=None,
        )
        still_typing = not typed.endswith(" ")
        ranked = sorted(scored, key=lambda s: (_title_match_tier(tokens, s[0], still_typing), -s[1]))
        return [Suggestion(titles[pk][0], titles[pk][1]) for _, _, pk in ranked[:limit]]

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


def _title_match_tier(typed: list[str], title: str, still_typing: bool) -> int:
    """Lower is better. The title starts with the typed words ("ThinK" -> "ThinK: Thinner Key
    Cache") exactly (0), or with the unfinished last word as a prefix (1); the title holds every
    typed word exactly (2) or as a prefix (3); anything else: spelling-tolerant matches (4)."""
    title_words = words(title)
    last = len(typed) - 1

    def same(i: int, title_word: str, *, prefix: bool) -> bool:
        if prefix and i == last and still_typing:
            return title_word.startswith(typed[i])
        return title_word == typed[i]

    for tier, prefix in ((0, False), (1, True)):
        if len(title_words) > last and all(same(i, title_words[i], prefix=prefix) for i in range(len(typed))):
            return tier
    for tier, prefix in ((2, False), (3, True)):
        if all(any(same(i, t, prefix=prefix) for t in title_words) for i in range(len(typed))):
            return tier
    return 4


def _fold_for_fuzz(text: str) -> str:
    return folded_words(text)
