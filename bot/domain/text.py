"""Text normalisation shared by dedup, search and follows.

One definition of "the same words" keeps the title key, the search vocabulary and the
SQLite tokenizer (``unicode61 remove_diacritics 2``) in agreement.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from itertools import pairwise

# Chinese and Japanese write a sentence without spaces, so unicode61 would keep "扩散模型的研究" as
# one word and only the whole run would be found. Each Han or kana character is a word of its own
# instead (in the index and in queries alike), and a query asks for a typed run's characters side by
# side, as a phrase: any word inside a longer run is found ("扩散", "日本語"), as a substring is.
# Korean separates its words with spaces and stays as it is.
_CJK = "\u3005-\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
# A word: one Han or kana word character, or a run of other word characters (``_`` separates words).
# The one definition of a word: search, the index and keyword follows (which only add a symbol
# suffix, bot/domain/follows.py) all split text with it.
WORD_PATTERN = rf"(?=\w)[{_CJK}]|[^\W_{_CJK}]+"
_WORD = re.compile(WORD_PATTERN)
_CJK_CHARACTER = re.compile(f"[{_CJK}]")
# A run of word characters as typed, before Han and kana are split into characters.
_RUN = re.compile(r"[^\W_]+")
_RAW_WORD = re.compile(r"\S+")
_SPACES = re.compile(r"\s+")
# Half of a UTF-16 pair on its own: JSON's "\ud800" decodes to one, and no UTF-8 store can hold it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Zero-width and bidi controls: invisible, yet they split or glue words.
_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
    ),
)


# Letters that neither NFKD nor SQLite's remove_diacritics reduce to a base letter, but that readers
# type as one: Turkish dotless ı ("KIRMIZI" must find "Kırmızı"), Nordic ø and æ, Polish ł, ...
# (lower case: ``fold`` case-folds first, which also makes ß "ss"). Search and author names
# (bot.domain.people.fold_name) both fold with ``fold``, so with this one table.
_NO_DECOMPOSITION = str.maketrans({"ı": "i", "ø": "o", "ł": "l", "đ": "d", "ħ": "h", "æ": "ae", "œ": "oe"})


def strip_invisible(text: str) -> str:
    """Remove zero-width and direction-control characters."""
    return text.translate(_INVISIBLE)


def fold(text: str) -> str:
    """Case- and accent-insensitive form of ``text`` (``Élan`` -> ``elan``)."""
    if text.isascii():  # the common case, and 20x cheaper than Unicode normalisation
        return text.lower()
    # NFKC first so compatibility forms (𝓐, ﬁ, full-width letters) case-fold like their plain letters.
    compatible = unicodedata.normalize("NFKC", strip_invisible(text)).casefold().translate(_NO_DECOMPOSITION)
    decomposed = unicodedata.normalize("NFKD", compatible)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# ASCII folded and split as the general pattern does, one byte to one byte: upper case to lower,
# every byte that is not a letter or digit to a space (a separator, as for the regex).
_ASCII_WORD_BYTES = bytes(
    ord(chr(b).lower()) if chr(b).isascii() and chr(b).isalnum() else ord(" ") for b in range(256)
)


def words(text: str) -> list[str]:
    """The folded words of ``text``, split like SQLite's unicode61 tokenizer, with each Han or kana
    character a word of its own. ASCII text (nearly every abstract) is folded and split by byte
    translation, in a third of the regex's time: the ingest splits every paper's abstract for its
    search document and its word counts."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_WORD_BYTES).decode("ascii").split()
    return _WORD.findall(fold(text))


def word_set(text: str) -> set[str]:
    """The distinct words of ``text``, ``set(words(text))``."""
    return set(words(text))


def typed_words(text: str) -> list[tuple[str, ...]]:
    """``words(text)`` grouped by the run of letters they were typed in: ``"GPT 的能力"`` gives
    ``[("gpt",), ("的", "能", "力")]``. A group of several words is a Chinese or Japanese word that a
    search must find with its characters side by side."""
    return [tuple(_WORD.findall(run)) for run in _RUN.findall(fold(text))]


def written_word_count(found: Sequence[str]) -> int:
    """How many words ``found`` (as ``words`` splits text) make as people write them: a Han or
    kana character is written joined to the words beside it ("扩散模型" is one word of four), other
    words stand apart. It depends on the words alone, not on their spacing, so a phrase counts the
    same as typed and as a follow's key spells it ("扩 散 模 型")."""
    joined = [bool(_CJK_CHARACTER.fullmatch(word)) for word in found]
    return len(found) - sum(a or b for a, b in pairwise(joined))


def written(found: Sequence[str]) -> str:
    """``found`` (as ``words`` splits text) spelt as people write it: a Han or kana character
    joined to the words beside it, other words apart (``words(written(found)) == found``)."""
    joined = [bool(_CJK_CHARACTER.fullmatch(word)) for word in found]
    spelt = list(found[:1])
    for (before, after), word in zip(pairwise(joined), found[1:], strict=True):
        spelt.append(word if before or after else " " + word)
    return "".join(spelt)


def search_text(text: str) -> str:
    """What the full-text index is given for ``text``, so that it holds ``text``'s folded words
    (tests/storage/test_index_text.py checks the two agree token for token). Index and queries both pass
    through ``fold`` (then FTS5's unicode61), so "Straße", "ﬁne" and full-width letters are found by
    the words people type. Changing ``fold`` needs a migration that rebuilds the index."""
    if text.isascii():
        # unicode61 lower-cases ASCII and splits it where ``words`` does (letters and digits are the
        # only ASCII word characters for both), so the text indexes as its folded words already.
        return text
    return folded_words(text)


def folded_words(text: str) -> str:
    """``text``'s folded words joined by spaces, every one spelt out: what PostgreSQL's search
    column is built from. ``search_text`` may leave ASCII text as it is, which only SQLite's
    unicode61 tokenizer folds and splits the same way."""
    return " ".join(words(text))


def snippet(text: str, terms: Sequence[str], size: int = 24) -> str:
    """About ``size`` words of ``text`` around the first word that folds to one of ``terms``."""
    spans = [(m.start(), m.end()) for m in _RAW_WORD.finditer(text)]
    if not spans:
        return clean_line(text)
    wanted = set(terms)
    hit = next((i for i, (a, b) in enumerate(spans) if wanted.intersection(words(text[a:b]))), 0)
    start = max(0, min(hit - size // 4, len(spans) - size))
    end = min(len(spans), start + size)
    cut = text[spans[start][0] : spans[end - 1][1]]
    return clean_line(("…" if start > 0 else "") + cut + ("…" if end < len(spans) else ""))


def title_key(title: str) -> str:
    """The key two titles share when they name the same paper: its folded words, except that a
    Han or kana run stays one word (the key names a paper: title-derived ids hash it, and it was
    settled before those characters became words of their own). Equal to ``folded_words`` for every
    title without such characters."""
    return " ".join(_RUN.findall(fold(title)))


def without_lone_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, so it can be stored and sent."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def clean_line(text: str) -> str:
    """One storable line: runs of white space (hard line breaks included) become single spaces and
    lone surrogates become U+FFFD."""
    return _SPACES.sub(" ", strip_invisible(without_lone_surrogates(text))).strip()


def clean_lines(texts: Iterable[str]) -> tuple[str, ...]:
    """``clean_line`` of each text, leaving out those it empties: a name or keyword of only
    zero-width characters is blank once cleaned, so blanks are judged after cleaning, never before."""
    return tuple(line for line in map(clean_line, texts) if line)
