"""Words that mix Latin letters with Cyrillic or Greek look-alikes (`раper`: Cyrillic р and а).

Such a keyword is accepted as typed and never matches: papers spell "paper" in Latin letters. It
is refused, naming the look-alikes, rather than folded on both sides: folding would also turn
legitimate mixes into other words (μP, a method's name, would match every "up"), while a member
told at once can retype the word. A word in one script (a Russian or Greek keyword) is untouched;
so is a mix whose other-script letters look like no Latin letter (μP, αβ-CROWN).
"""

from __future__ import annotations

import re
import unicodedata

from bot.errors import InvalidInput

# Cyrillic and Greek letters drawn like a Latin letter (Unicode's confusables, the common ones),
# and the Latin letters they copy (a Latin "o" in a Cyrillic word is as invisible).
LATIN_LOOKALIKES = frozenset(
    "аеорсухіјѕԁһӏԛԝүАВЕКМНОРСТХІЈЅУԚԜ"  # Cyrillic
    "οΑΒΕΖΗΙΚΜΝΟΡΤΥΧ"  # Greek
)
LATIN_TWINS = frozenset("aeopcyxijsdhlqwvABEKMHOPCTXIJSYQWZN")
_WORD = re.compile(r"\w+")
_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")


def _script(letter: str) -> str | None:
    name = unicodedata.name(letter, "")
    return next((script for script in _SCRIPTS if name.startswith(script)), None)


def mixed_lookalikes(text: str) -> list[str]:
    """The look-alikes in each word of ``text`` that mixes Latin letters with Cyrillic or Greek
    ones: the letters of the word's lesser script that are drawn like a letter of the other (the
    Cyrillic р and а of `раper`; the Latin o of a Cyrillic word), each once, as
    ``р (U+0440 CYRILLIC SMALL LETTER ER)``. Empty when there are none."""
    found: dict[str, None] = {}
    for word in _WORD.findall(text):
        scripts = [_script(letter) for letter in word]
        latin = scripts.count("LATIN")
        other = sum(1 for script in scripts if script not in (None, "LATIN"))
        if not latin or not other:
            continue
        odd_is_latin = latin < other
        for letter, script in zip(word, scripts, strict=True):
            if script is None or (script == "LATIN") != odd_is_latin:
                continue
            if letter in (LATIN_TWINS if odd_is_latin else LATIN_LOOKALIKES):
                found[letter] = None
    return [f"{letter} (U+{ord(letter):04X} {unicodedata.name(letter, '?')})" for letter in found]


def refuse_lookalikes(text: str) -> None:
    """InvalidInput naming the look-alikes when ``text`` (a follow's keyword, a digest's topic) mixes
    Latin letters with them: typed so, it is kept and never matches a paper."""
    lookalikes = mixed_lookalikes(text)
    if lookalikes:
        raise InvalidInput(
            f"“{text}” mixes Latin letters with look-alikes from another script: "
            f"{', '.join(lookalikes)}. Papers write a word in one script, so it would never match: "
            "type it again in one script."
        )
