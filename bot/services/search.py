"""Full-text search and title suggestions that stay fast at a million papers.

Two ideas keep the cost bounded:

* **Candidate windows.** BM25 must score every matching row before it can sort, so a query for
  a very common word ("learning") costs as much as the number of papers holding it. When the
  rarest required word is in more than ``CANDIDATE_CAP`` papers, only the newest papers that
  hold about that many matches are scored (``rowid >= floor``, which FTS5 applies inside its
  index scan). For such broad queries the newest good matches are the useful ones anyway.
* **Vocabulary-driven typo tolerance.** Misspelt words are corrected against the words of all
  titles (a small in-memory vocabulary) with rapidfuzz, and the corrected FTS5 query yields a
  few dozen candidates that rapidfuzz then re-ranks against what the user typed. No scan over
  all titles ever runs, so nothing holds the GIL for long.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.domain.models import Paper
from bot.domain.query import Mode, SearchQuery, alternatives_to_fts, parse_search, to_fts
from bot.domain.text import clean_line, words
from bot.domain.vocabulary import Vocabulary
from bot.storage.papers import PaperRepository, TextHit

CANDIDATE_CAP = 20_000
SUGGESTION_POOL = 60
_CACHE_SIZE = 1024


@dataclass(frozen=True, slots=True)
class SearchHit:
    paper: Paper
    score: float
    snippet: str
    fuzzy: bool = False  # found through typo correction rather than the words as typed


@dataclass(frozen=True, slots=True)
class Suggestion:
    paper_id: str
    title: str


class SearchEngine:
    def __init__(self, papers: PaperRepository) -> None:
        self._papers = papers
        self._vocabulary = Vocabulary({})
        self._max_pk = 0
        self._suggestions: OrderedDict[str, list[Suggestion]] = OrderedDict()

    async def refresh(self) -> None:
        """Reload the title vocabulary; call after every ingest."""
        self._vocabulary = Vocabulary(await self._papers.title_terms())
        self._max_pk = await self._papers.max_pk()
        self._suggestions.clear()

    @property
    def vocabulary(self) -> Vocabulary:
        return self._vocabulary

    # ---- full-text search ------------------------------------------------------------------

    async def search(self, text: str, limit: int = 10) -> list[SearchHit]:
        """Best matches first: all words, then corrected spellings, then any word, then fuzzy titles."""
        query = parse_search(text)
        if not query:
            return []
        found: dict[int, tuple[TextHit, bool]] = {}

        async def take(fts: str, frequencies: Sequence[int], fuzzy: bool) -> None:
            if len(found) >= limit:
                return
            for hit in await self._papers.match(fts, limit=limit, min_pk=self._floor(frequencies)):
                found.setdefault(hit.pk, (hit, fuzzy))

        df = await self._papers.document_frequency(query.all_words())
        await take(
            to_fts(query), [_phrase_df(p, df) for p in query.phrases] + [df[t] for t in query.terms], False
        )

        corrected = self._corrected(query, df)
        if corrected is not None:
            cdf = await self._papers.document_frequency(corrected.all_words())
            await take(to_fts(corrected), [cdf[t] for t in corrected.all_words()], True)
            query, df = corrected, cdf
        if query.size > 1:
            # Any word: the candidate count is the union, bounded by the sum of frequencies.
            await take(to_fts(query, Mode.ANY), [sum(df[w] for w in query.all_words())], False)

        pks = list(found)[:limit]
        stored = await self._papers.by_pks(pks)
        return [
            SearchHit(stored[pk].paper, found[pk][0].score, clean_line(found[pk][0].snippet), found[pk][1])
            for pk in pks
            if pk in stored
        ]

    def _corrected(self, query: SearchQuery, df: dict[str, int]) -> SearchQuery | None:
        """The query with unknown words replaced by their closest title words, if any changed."""
        changed = False
        terms: list[str] = []
        for term in query.terms:
            if df.get(term, 0) == 0:
                options = self._vocabulary.correct(term, limit=1)
                if options:
                    term, changed = options[0], True
            terms.append(term)
        return SearchQuery(tuple(dict.fromkeys(terms)), query.phrases) if changed else None

    def _floor(self, frequencies: Sequence[int]) -> int:
        """Lowest rowid worth scoring so that about ``CANDIDATE_CAP`` matches remain."""
        rarest = min(frequencies, default=0)
        if rarest <= CANDIDATE_CAP or self._max_pk == 0:
            return 0
        return max(0, self._max_pk - (self._max_pk * CANDIDATE_CAP) // rarest)

    # ---- title suggestions (autocomplete) ----------------------------------------------------

    async def suggest(self, typed: str, limit: int = 25) -> list[Suggestion]:
        """Titles for what a user has typed so far, typo tolerant; cached per text until the next ingest."""
        key = clean_line(typed).casefold()[:100]
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
            hits = await self._papers.newest_titles(limit)
            return [Suggestion(paper_id, title) for paper_id, title in hits]
        groups = self._word_groups(tokens, still_typing=not typed.endswith(" "))
        if not groups:
            return []
        frequencies = [sum(self._vocabulary.frequency(w) for w in group) for group in groups]
        candidates: dict[int, None] = {}
        for mode in (Mode.ALL, Mode.ANY) if len(groups) > 1 else (Mode.ALL,):
            fts = alternatives_to_fts(groups, mode, column="title")
            floor = self._floor(frequencies if mode is Mode.ALL else [sum(frequencies)])
            for hit in await self._papers.match(fts, limit=SUGGESTION_POOL, min_pk=floor):
                candidates.setdefault(hit.pk)
            if len(candidates) >= limit:
                break
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
                options = self._vocabulary.complete(token) or self._vocabulary.correct(token)
            else:
                options = self._vocabulary.correct(token)
            if options:
                groups.append(options)
        return groups


def _phrase_df(phrase: Sequence[str], df: dict[str, int]) -> int:
    return min(df[w] for w in phrase)


def _fold_for_fuzz(text: str) -> str:
    return " ".join(words(text))
