"""Keyword follows: normalising, parsing small boolean queries, and matching many follows fast.

Grammar (case-insensitive operators)::

    query  := or
    or     := and ("OR" and)*
    and    := unary (["AND"] unary)*
    unary  := ("-" | "NOT") atom | atom
    atom   := phrase | "(" query ")"
    phrase := a quoted text, or adjacent bare words ("reward model" and reward model are the same)

Terms are normalised the same way as paper text: case and accents folded, hyphens as spaces
(``low-rank`` = ``low rank``) and simple plurals reduced (``models`` = ``model``), and they match
at whole-word boundaries only.

Matching indexes every follow by the terms that can make it true, so a paper costs one pass over
its own words plus the few follows whose terms it actually holds, however many follows exist.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.domain.text import strip_invisible, words
from bot.errors import InvalidInput

MAX_KEYWORD_CHARS = 100
MAX_TERMS = 8
MAX_PHRASE_WORDS = 6
_TOKEN = re.compile(
    r'\s*(?:(?P<quote>"[^"]*"?)|(?P<open>\()|(?P<close>\))|(?P<minus>-(?=\S))|(?P<word>[^\s()"]+))'
)


def stem(word: str) -> str:
    """Simple plural folding: ``models`` -> ``model``, ``studies`` -> ``study``; short words stay."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def normalise_words(text: str) -> tuple[str, ...]:
    """Folded, stemmed words of ``text`` (hyphens split words, as spaces do)."""
    return tuple(stem(w) for w in words(text))


# ---- the query tree -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    words: tuple[str, ...]

    def render(self) -> str:
        return " ".join(self.words) if len(self.words) == 1 else '"' + " ".join(self.words) + '"'


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
    parser = _Parser(cleaned)
    node = _canonical(parser.parse())
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
            elif kind == "word" and value.upper() in ("AND", "OR", "NOT"):
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
            return Not(self._atom())
        return self._atom()

    def _atom(self) -> Node:
        kind = self._peek()
        if kind is None:
            raise InvalidInput(f"“{self.text}” ends with an operator: add a word after it.")
        if kind == "open":
            self._take()
            node = self._or()
            if self._peek() != "close":
                raise InvalidInput(f"A “(” is not closed in “{self.text}”.")
            self._take()
            return node
        if kind == "phrase":
            return self._term(self._take()[1])
        if kind == "word":
            parts = [self._take()[1]]
            while self._peek() == "word":  # adjacent bare words form a phrase
                parts.append(self._take()[1])
            return self._term(" ".join(parts))
        raise InvalidInput(f"“{self.tokens[self.at][1]}” cannot stand there in “{self.text}”.")

    def _term(self, text: str) -> Term:
        found = normalise_words(text)
        if not found:
            raise InvalidInput(f"“{text}” has no letters or digits to look for.")
        if len(found) > MAX_PHRASE_WORDS:
            raise InvalidInput(f"Phrases can have at most {MAX_PHRASE_WORDS} words.")
        return Term(found)


# ---- matching many follows ----------------------------------------------------------------------


class FollowMatcher:
    """All active follows, indexed by the terms that can trigger them."""

    def __init__(self, follows: Iterable[tuple[int, Follow]]) -> None:
        self._follows: dict[int, Follow] = {}
        self._by_term: dict[tuple[str, ...], list[int]] = defaultdict(list)
        self._phrase_lengths: dict[str, set[int]] = defaultdict(set)  # first word -> phrase lengths
        self._needed: set[tuple[str, ...]] = set()
        for follow_id, follow in follows:
            self._follows[follow_id] = follow
            for term in triggers(follow.query) or ():
                self._by_term[term.words].append(follow_id)
            for term in terms_of(follow.query):
                self._needed.add(term.words)
                self._phrase_lengths[term.words[0]].add(len(term.words))

    def __len__(self) -> int:
        return len(self._follows)

    def present_terms(self, text_words: Sequence[str]) -> set[tuple[str, ...]]:
        """The follow terms (words and phrases) that occur in a paper's normalised words."""
        present: set[tuple[str, ...]] = set()
        lengths = self._phrase_lengths
        needed = self._needed
        for index, word in enumerate(text_words):
            for size in lengths.get(word, ()):
                candidate = tuple(text_words[index : index + size])
                if candidate in needed:
                    present.add(candidate)
        return present

    def match(self, text_words: Sequence[str]) -> list[int]:
        """Ids of the follows a paper (its normalised words) satisfies."""
        present = self.present_terms(text_words)
        candidates = {follow_id for term in present for follow_id in self._by_term.get(term, ())}
        return [fid for fid in candidates if evaluate(self._follows[fid].query, present)]


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
