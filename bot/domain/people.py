"""Author and organisation follows: who a follow means, and the rule for when a paper's author or
organisation is that person or lab. Pure, no I/O.

The rule (README "Author and organisation follows"):

- **Claimed authors** (the Hugging Face author slot carries a user): a follow made for that HF user
  (``Yann LeCun (@ylecun)``, as autocomplete offers it) matches exactly the slots that user claimed,
  whatever the name is written as; a slot claimed by another user never matches it. A follow made
  from a typed name (no user) compares the name, as for an unclaimed slot.
- **Unclaimed authors** match by normalised name: case and accents are folded (``Yánn Lecun`` =
  ``Yann LeCun``), punctuation and hyphens become spaces, the family name (last word) must be equal,
  and the first given name must be compatible: equal, or one of them is an initial of the other
  (``Y. LeCun`` = ``Yann LeCun``, ``Y LeCun`` = ``Yann LeCun``; ``Yves LeCun`` ≠ ``Yann LeCun``).
  Middle names are ignored (``Yann A. LeCun`` = ``Yann LeCun``). A follow needs a given name or
  initial and a family name.
- **Organisations** match by their Hugging Face id when both the follow and the paper know it
  (``nvidia``), else by the normalised full name (``NVIDIA`` = ``Nvidia``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.text import fold, words
from bot.errors import InvalidInput

MAX_NAME_CHARS = 100
_CHOICE = re.compile(r"^(?P<name>.*?)\s*\(@(?P<id>[A-Za-z0-9][A-Za-z0-9._-]{0,95})\)\s*$")


class PersonKind(StrEnum):
    AUTHOR = "author"
    ORG = "org"


_NOT_NAME = re.compile(r"[^\w]+|_")


@functools.lru_cache(maxsize=1 << 16)  # authors recur across papers: an ingest folds each name once
def fold_name(text: str) -> str:
    """Case and accents folded as search folds them (``bot.domain.text.fold``: letters without a
    decomposition too, ``Łukasz`` = ``Lukasz``, ``Søren`` = ``Soren``), other than letters and
    digits a space: ``Yánn Le-Cun`` -> ``yann le cun``. Stored in paper_people and person follows'
    keys: a change here needs a migration that folds them again (0034)."""
    return " ".join(_NOT_NAME.sub(" ", fold(text)).split())


@functools.lru_cache(maxsize=1 << 16)  # as fold_name's: NFKC and casefold once a name an ingest
def name_words(name: str) -> tuple[str, ...]:
    """``words(name)``, once a name: an author list's words (its search vector's column C) are its
    names' words one after the other, since a space breaks no normalisation and splits words
    (tests/domain/test_name_words.py), so a name that recurs across papers is folded once, not
    again for every paper that lists it."""
    return tuple(words(name))


def family_key(name: str) -> str:
    """What a name is looked up by: its folded family name (the last word)."""
    return family_of_folded(fold_name(name))


def family_of_folded(folded: str) -> str:
    """``family_key`` of a name already folded (its words joined by single spaces)."""
    return folded.rpartition(" ")[2]


def same_author(followed: str, written: str) -> bool:
    """The unclaimed-name rule: equal family names, compatible first given names."""
    a, b = fold_name(followed).split(), fold_name(written).split()
    if len(a) < 2 or len(b) < 2 or a[-1] != b[-1]:
        return False
    x, y = a[0], b[0]
    if x == y:
        return True
    return (len(x) == 1 and y.startswith(x)) or (len(y) == 1 and x.startswith(y))


@dataclass(frozen=True, slots=True)
class AuthorCredit:
    """One author slot of a Hugging Face listing: the name as written, and the HF user who claimed it."""

    name: str
    hf_user: str | None = None


@dataclass(frozen=True, slots=True)
class Credits:
    """Who a listed paper is by, as Hugging Face knows it."""

    authors: tuple[AuthorCredit, ...] = ()
    org_id: str | None = None
    org_name: str | None = None


@dataclass(frozen=True, slots=True)
class PersonFollow:
    """A follow of an author or organisation: the name shown, and the HF id when the member chose one."""

    kind: PersonKind
    name: str
    hf_id: str | None = None

    @property
    def canonical(self) -> str:
        """The follow's key: never a keyword's (those have no ':'), equal for the same person."""
        return f"{self.kind}:{(self.hf_id or '').casefold()}:{fold_name(self.name)}"

    @property
    def label(self) -> str:
        """What /follow list and the alert DM say matched: ``author Yann LeCun (@ylecun)``."""
        who = f"{self.name} (@{self.hf_id})" if self.hf_id else self.name
        return f"{self.kind} {who}"

    @classmethod
    def parse(cls, kind: PersonKind, text: str) -> PersonFollow:
        """A typed or autocompleted name (``Name (@hf_id)``), or InvalidInput saying what is wrong."""
        cleaned = " ".join(text.split())
        if len(cleaned) > MAX_NAME_CHARS:
            raise InvalidInput(f"Keep names within {MAX_NAME_CHARS} characters.")
        chosen = _CHOICE.match(cleaned)
        name, hf_id = (chosen["name"], chosen["id"]) if chosen else (cleaned, None)
        if not fold_name(name):
            raise InvalidInput("Give a name to follow (start typing to see the stored ones).")
        if kind is PersonKind.AUTHOR and len(fold_name(name).split()) < 2:
            raise InvalidInput(
                f"“{name}”: give a first name or initial and a family name, e.g. Y. LeCun or Yann LeCun."
            )
        return cls(kind, name, hf_id)

    @classmethod
    def refolded_key(cls, canonical: str, typed: str) -> str:
        """A stored follow's key under today's ``fold_name`` (``typed``: the name as the member
        gave it); a keyword follow's, or one that no longer parses, stays as it is."""
        person = cls.from_canonical(canonical, typed)
        if person is None:
            return canonical
        try:
            return cls.parse(person.kind, typed).canonical
        except InvalidInput:
            return canonical

    @classmethod
    def from_canonical(cls, canonical: str, name: str) -> PersonFollow | None:
        """The follow a stored row holds (None: the row is a keyword follow)."""
        kind, sep, rest = canonical.partition(":")
        if not sep or kind not in (PersonKind.AUTHOR, PersonKind.ORG):
            return None
        hf_id = rest.partition(":")[0]
        return cls(PersonKind(kind), name, hf_id or None)

    def matches(self, authors: Sequence[str], organization: str | None, credits: Credits | None) -> bool:
        """Whether a paper (its author names, organisation, and HF credits if known) is by this follow."""
        if self.kind is PersonKind.ORG:
            if self.hf_id and credits and credits.org_id:
                return credits.org_id.casefold() == self.hf_id.casefold()
            shown = (credits.org_name if credits else None) or organization
            return bool(shown) and fold_name(shown or "") == fold_name(self.name)
        slots = credits.authors if credits and credits.authors else tuple(AuthorCredit(a) for a in authors)
        for slot in slots:
            if slot.hf_user and self.hf_id:
                if slot.hf_user.casefold() == self.hf_id.casefold():
                    return True
                continue  # claimed by someone else: the id decides, not the name
            if same_author(self.name, slot.name):
                return True
        return False
