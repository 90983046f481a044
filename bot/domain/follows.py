"""Keyword follows: normalising, parsing small boolean queries, and matching many follows fast.

Grammar (case-insensitive operators; the README's "Follow keywords" section shows examples)::

    query   := or
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*
    unary   := ("-" | "NOT") target | atom
    target  := one bare word | quoted phrase | "(" query ")"     -- what "-" and NOT bind to
    atom    := quoted phrase | "(" query ")" | run
    run     := bare words, with "-word" / "NOT word" allowed inside: the bare words form one phrase
               and each negated word is excluded (diffusion -video models = "diffusion models" -video)

Terms are split into words exactly as search splits text (bot.domain.text: each Han or kana
character is a word, so ``扩散`` is the phrase of its two characters and is found inside
``扩散模型的研究``), and normalised the same way as paper text: case and accents folded, hyphens as spaces
(``low-rank`` = ``low rank``), simple plurals reduced (``models`` = ``model``, ``studies`` =
``study``; words that only look plural, such as ``news``, ``series`` or ``bias``, are kept), and
``C++``, ``C#``, ``F#`` kept as words of their own. Terms match at whole-word boundaries only.

Matching indexes every follow by the terms that can make it true, so a paper costs one pass over
its own words plus the few follows whose terms it actually holds, however many follows exist.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain

from bot.domain.text import WORD_PATTERN, fold, strip_invisible, written_word_count
from bot.errors import InvalidInput

MAX_KEYWORD_CHARS = 100
MAX_TERMS = 8
MAX_PHRASE_WORDS = 6
OPERATORS = ("AND", "OR", "NOT")
_TOKEN = re.compile(
    r'\s*(?:(?P<quote>"[^"]*"?)|(?P<open>\()|(?P<close>\))|(?P<minus>-(?=\S))|(?P<word>[^\s()"]+))'
)


# Words ending in s that are not plurals: stripping it would make them other words ("news" -> "new").
NOT_PLURALS = frozenset(
    {
        "news", "series", "species", "bias", "alias", "atlas", "canvas", "chaos", "gas", "lens",
        "always", "perhaps", "whereas", "does", "has", "was", "yes", "plus", "thus", "its",
        "physics", "mathematics", "economics", "ethics", "politics",
    }
)  # fmt: skip
# Search's words (one tokenizer: each Han or kana character a word, as the index has them), except
# that programming-language names keep the symbol that is their name: "C++" is not the letter "c".
_TOKEN_WORD = re.compile(WORD_PATTERN + r"(?:\+\+|#)?")


def stem(word: str) -> str:
    """Simple plural folding: ``models`` -> ``model``, ``studies`` -> ``study``; short words and
    words that only look plural (``news``) stay."""
    if word in NOT_PLURALS:
        return word
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def normalise_words(text: str) -> tuple[str, ...]:
    """Folded, stemmed words of ``text`` (hyphens split words, as spaces do; ``c++``/``c#`` kept)."""
    return tuple(stem(w) for w in _TOKEN_WORD.findall(fold(text)))


# ---- the query tree -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    words: tuple[str, ...]

    def render(self) -> str:
        # A lone word that spells an operator (typed quoted, or with punctuation: "or", or.) is
        # quoted too: the key is parsed again (a digest topic at every post) and must read as a word.
        if len(self.words) == 1 and self.words[0].upper() not in OPERATORS:
            return self.words[0]
        return '"' + " ".join(self.words) + '"'


@dataclass(frozen=True, slots=True)
class Not:
    child: Node

    def render(self) -> str:
        return "-" + _wrap(self.child)


@dataclass(frozen=True, slots=True)
class All:
    children: tuple[Node, ...]

    def render(self) -> str:
        return " AND ".join(_wrap(c) for c in self.children)


@dataclass(frozen=True, slots=True)
class Any:
    children: tuple[Node, ...]

    def render(self) -> str:
        return " OR ".join(_wrap(c) for c in self.children)


Node = Term | Not | All | Any


def _wrap(node: Node) -> str:
    return f"({node.render()})" if isinstance(node, All | Any) else node.render()


def terms_of(node: Node) -> list[Term]:
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not):
        return terms_of(node.child)
    return [t for child in node.children for t in terms_of(child)]


def evaluate(node: Node, present: set[tuple[str, ...]]) -> bool:
    if isinstance(node, Term):
        return node.words in present
    if isinstance(node, Not):
        return not evaluate(node.child, present)
    if isinstance(node, All):
        return all(evaluate(c, present) for c in node.children)
    return any(evaluate(c, present) for c in node.children)


def triggers(node: Node) -> list[Term] | None:
    """Terms of which at least one must be present for ``node`` to be true (None: it can be true
    with none present, e.g. a bare negation)."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not):
        return None
    if isinstance(node, All):
        options = [t for t in (triggers(c) for c in node.children) if t is not None]
        return min(options, key=len) if options else None
    collected: list[Term] = []
    for child in node.children:
        found = triggers(child)
        if found is None:
            return None
        collected += found
    return collected


def _canonical(node: Node) -> Node:
    """Flattened and sorted, so that equivalent spellings of a follow compare equal."""
    if isinstance(node, Term):
        return node
    if isinstance(node, Not):
        return Not(_canonical(node.child))
    kind = type(node)
    flat: list[Node] = []
    for child in (_canonical(c) for c in node.children):
        flat.extend(child.children if isinstance(child, kind) else (child,))
    unique = sorted(set(flat), key=lambda n: n.render())
    return unique[0] if len(unique) == 1 else kind(tuple(unique))


# ---- parsing ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Follow:
    """A parsed keyword: what the member typed, and its canonical query."""

    text: str
    query: Node

    @property
    def key(self) -> str:
        return self.query.render()


def parse_keyword(text: str) -> Follow:
    """A member's keyword as a query, or InvalidInput saying what is wrong."""
    cleaned = " ".join(strip_invisible(text).split())
    if not cleaned:
        raise InvalidInput("The keyword is empty.")
    if len(cleaned) > MAX_KEYWORD_CHARS:
        raise InvalidInput(f"Keep keywords within {MAX_KEYWORD_CHARS} characters.")
    return _parsed(cleaned)


def parse_key(key: str) -> Follow:
    """A stored key read back (a digest topic, at every post): as ``parse_keyword`` reads it, but
    without the bound on what a member types, since a key spells out what typing leaves implicit
    (`` AND ``, quotes) and can be longer than the keyword it came from."""
    return _parsed(key)


def _parsed(cleaned: str) -> Follow:
    node = _canonical(_Parser(cleaned).parse())
    if triggers(node) is None:
        raise InvalidInput(
            f"“{cleaned}” only excludes words: add a word to look for, e.g. `pruning -lottery`."
        )
    if len(terms_of(node)) > MAX_TERMS:
        raise InvalidInput(f"Use at most {MAX_TERMS} words or phrases in one keyword.")
    return Follow(cleaned, node)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = self._lex(text)
        self.at = 0
        self.open_parens = 0  # "(" read and not yet closed: the end of the text then means a missing ")"

    def _lex(self, text: str) -> list[tuple[str, str]]:
        tokens: list[tuple[str, str]] = []
        for match in _TOKEN.finditer(text):
            kind = match.lastgroup
            value = match.group(kind) if kind else ""
            if kind == "quote":
                if not value.endswith('"') or len(value) < 2:
                    raise InvalidInput(
                        f'A quote is not closed in “{text}”: write "exact phrase" with both quotes.'
                    )
                tokens.append(("phrase", value[1:-1]))
            elif kind == "word" and value.upper() in OPERATORS:
                tokens.append((value.upper(), value))
            elif kind:
                tokens.append((kind, value))
        return tokens

    def _peek(self) -> str | None:
        return self.tokens[self.at][0] if self.at < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def parse(self) -> Node:
        node = self._or()
        if self._peek() == "close":
            raise InvalidInput(f"There is a “)” without its “(” in “{self.text}”.")
        if self._peek() is not None:
            raise InvalidInput(f"I could not read “{self.text}” near “{self.tokens[self.at][1]}”.")
        return node

    def _or(self) -> Node:
        children = [self._and()]
        while self._peek() == "OR":
            self._take()
            children.append(self._and())
        return children[0] if len(children) == 1 else Any(tuple(children))

    def _and(self) -> Node:
        children = [self._unary()]
        while self._peek() in ("AND", "minus", "NOT", "word", "phrase", "open"):
            if self._peek() == "AND":
                self._take()
            children.append(self._unary())
        return children[0] if len(children) == 1 else All(tuple(children))

    def _unary(self) -> Node:
        if self._peek() in ("minus", "NOT"):
            self._take()
            return Not(self._target())
        return self._atom()

    def _target(self) -> Node:
        """What "-" and NOT exclude: the next bare word, quoted phrase or parenthesised query."""
        if self._peek() == "word":
            return self._term(self._take()[1])
        return self._atom()

    def _more_words_after_negation(self) -> bool:
        """A bare word follows this "-word" (or a chain of them): the negation sits inside a run."""
        at = self.at
        while (
            at + 1 < len(self.tokens)
            and self.tokens[at][0] in ("minus", "NOT")
            and self.tokens[at + 1][0] == "word"
        ):
            at += 2
        return at < len(self.tokens) and self.tokens[at][0] == "word"

    def _negated_word_follows(self) -> bool:
        return (
            self._peek() in ("minus", "NOT")
            and self.at + 1 < len(self.tokens)
            and (self.tokens[self.at + 1][0] == "word")
        )

    def _atom(self) -> Node:
        kind = self._peek()
        if kind is None:
            if self.open_parens and (not self.tokens or self.tokens[-1][0] == "open"):
                raise InvalidInput(f"A “(” is not closed in “{self.text}”: put words and a “)” after it.")
            raise InvalidInput(f"“{self.text}” ends with an operator: add a word after it.")
        if kind == "open":
            self._take()
            self.open_parens += 1
            node = self._or()
            if self._peek() != "close":
                raise InvalidInput(f"A “(” is not closed in “{self.text}”.")
            self._take()
            self.open_parens -= 1
            return node
        if kind == "phrase":
            return self._term(self._take()[1])
        if kind == "word":
            parts = [self._take()[1]]
            excluded: list[Node] = []
            # Adjacent bare words form a phrase; a negated word inside the run is excluded and the
            # words around it still form the phrase (diffusion -video models).
            while self._peek() == "word" or (
                self._negated_word_follows() and self._more_words_after_negation()
            ):
                if self._peek() == "word":
                    parts.append(self._take()[1])
                else:
                    self._take()
                    excluded.append(Not(self._term(self._take()[1])))
            phrase = self._term(" ".join(parts))
            return All((phrase, *excluded)) if excluded else phrase
        raise InvalidInput(f"“{self.tokens[self.at][1]}” cannot stand there in “{self.text}”.")

    def _term(self, text: str) -> Term:
        found = normalise_words(text)
        if not found:
            raise InvalidInput(f"“{text}” has no letters or digits to look for.")
        # Words as written: a Chinese or Japanese word is one, though each of its characters is a term
        # word. Counted from the words, not the typed spacing, so the key (which spaces them) counts alike.
        if written_word_count(found) > MAX_PHRASE_WORDS:
            raise InvalidInput(f"Phrases can have at most {MAX_PHRASE_WORDS} words.")
        return Term(found)


# ---- matching many follows ----------------------------------------------------------------------


TermKey = tuple[str, ...]


def _flat_conjunction(node: Node) -> tuple[frozenset[TermKey], frozenset[TermKey]] | None:
    """(required, excluded) terms when ``node`` is ``t1 AND t2 ... AND -x AND -y``, else None."""
    children = node.children if isinstance(node, All) else (node,)
    required: set[TermKey] = set()
    excluded: set[TermKey] = set()
    for child in children:
        if isinstance(child, Term):
            required.add(child.words)
        elif isinstance(child, Not) and isinstance(child.child, Term):
            excluded.add(child.child.words)
        else:
            return None
    return (frozenset(required), frozenset(excluded)) if required else None


class FollowMatcher:
    """All active follows, indexed so that a paper only looks at queries it can satisfy.

    Members share popular keywords, so each distinct query is evaluated once per paper and fans
    out to everyone who follows it. Most queries are conjunctions (``a``, ``"a b" AND c``,
    ``a -b``): they are checked with set operations, and those needing two or more words are
    indexed by a pair of them, so ``method AND task`` is only looked at when both are present.
    Anything else is indexed by its trigger terms and evaluated as a tree.
    """

    def __init__(self, follows: Iterable[tuple[int, Follow]]) -> None:
        self._queries: list[Node] = []
        self._followers: list[list[int]] = []
        index_of: dict[str, int] = {}
        for follow_id, follow in follows:
            index = index_of.get(follow.key)
            if index is None:
                index = index_of[follow.key] = len(self._queries)
                self._queries.append(follow.query)
                self._followers.append([])
            self._followers[index].append(follow_id)

        self._required: dict[int, frozenset[TermKey]] = {}
        self._excluded: dict[int, frozenset[TermKey]] = {}
        self._plain: dict[TermKey, list[int]] = defaultdict(list)  # true whenever the term is present
        self._guarded: dict[TermKey, list[int]] = defaultdict(list)  # one term, some excluded
        self._spoiled_by: dict[tuple[TermKey, TermKey], list[int]] = defaultdict(list)
        self._by_pair: dict[TermKey, dict[TermKey, list[int]]] = defaultdict(lambda: defaultdict(list))
        self._guard_words: dict[TermKey, set[TermKey]] = defaultdict(set)
        self._by_trigger: dict[TermKey, list[int]] = defaultdict(list)  # general trees
        self._phrase_lengths: dict[str, set[int]] = defaultdict(set)  # first word -> phrase lengths
        self._needed: set[TermKey] = set()
        for index, query in enumerate(self._queries):
            for term in terms_of(query):
                self._needed.add(term.words)
                self._phrase_lengths[term.words[0]].add(len(term.words))
            if isinstance(query, Any) and all(isinstance(c, Term) for c in query.children):
                for child in query.children:
                    self._plain[child.words].append(index)  # type: ignore[union-attr]
                continue
            flat = _flat_conjunction(query)
            if flat is None:
                for term in triggers(query) or ():
                    self._by_trigger[term.words].append(index)
                continue
            required, excluded = flat
            self._required[index], self._excluded[index] = required, excluded
            ordered = sorted(required)
            if len(ordered) > 1:
                self._by_pair[ordered[0]][ordered[1]].append(index)
            elif excluded:
                self._guarded[ordered[0]].append(index)
                self._guard_words[ordered[0]].update(excluded)
                for word in excluded:
                    self._spoiled_by[(ordered[0], word)].append(index)
            else:
                self._plain[ordered[0]].append(index)
        self._size = sum(len(f) for f in self._followers)
        self._single_words = {term[0] for term in self._needed if len(term) == 1}
        self._phrase_starts = {
            first: sorted(size for size in sizes if size > 1)
            for first, sizes in self._phrase_lengths.items()
            if any(size > 1 for size in sizes)
        }

    def __len__(self) -> int:
        return self._size

    def present_terms(self, text_words: Sequence[str]) -> set[TermKey]:
        """The follow terms (words and phrases) that occur in a paper's normalised words."""
        present: set[TermKey] = {(word,) for word in self._single_words.intersection(text_words)}
        starts = self._phrase_starts
        needed = self._needed
        for index, word in enumerate(text_words):
            sizes = starts.get(word)
            if sizes:
                for size in sizes:
                    candidate = tuple(text_words[index : index + size])
                    if candidate in needed:
                        present.add(candidate)
        return present

    def matching_queries(self, text_words: Sequence[str]) -> set[int]:
        """Indexes of the distinct queries a paper satisfies."""
        present = self.present_terms(text_words)
        found: set[int] = set()
        excluded = self._excluded
        for term in present:
            found.update(self._plain.get(term, ()))
            guarded = self._guarded.get(term)
            if guarded:
                spoiled: set[int] = set()
                for other in present.intersection(self._guard_words[term]):
                    spoiled.update(self._spoiled_by[(term, other)])
                found.update(guarded if not spoiled else (i for i in guarded if i not in spoiled))
            for index in self._by_trigger.get(term, ()):
                if index not in found and evaluate(self._queries[index], present):
                    found.add(index)
        if len(present) > 1 and self._by_pair:
            required = self._required
            for first in present:
                seconds = self._by_pair.get(first)
                if seconds is None:
                    continue
                for second in present.intersection(seconds):
                    for index in seconds[second]:
                        if required[index] <= present and not excluded[index] & present:
                            found.add(index)
        return found

    def followers(self, query_index: int) -> list[int]:
        return self._followers[query_index]

    def match(self, text_words: Sequence[str]) -> list[int]:
        """Ids of the follows a paper (its normalised words) satisfies."""
        return list(chain.from_iterable(map(self._followers.__getitem__, self.matching_queries(text_words))))


def paper_words(title: str, abstract: str, keywords: Sequence[str]) -> tuple[str, ...]:
    """What follows are matched against; a separator keeps phrases from spanning two fields."""
    out: list[str] = []
    for part in (title, abstract, *keywords):
        out.extend(normalise_words(part))
        out.append("\x00")
    return tuple(out)


def naive_matches(follows: Mapping[int, Follow], text_words: Sequence[str]) -> list[int]:
    """The straightforward reference: every follow against every word position (tests, benchmark)."""
    joined = " " + " ".join(text_words) + " "

    def holds(node: Node) -> bool:
        if isinstance(node, Term):
            return " " + " ".join(node.words) + " " in joined
        if isinstance(node, Not):
            return not holds(node.child)
        if isinstance(node, All):
            return all(holds(c) for c in node.children)
        return any(holds(c) for c in node.children)

    return [fid for fid, follow in follows.items() if holds(follow.query)]
