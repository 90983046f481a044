"""Which paper a member means by what they typed into a paper option, when it is a title: the
one resolver behind /papers show and similar, and /library save, read, unread, tag, note, remove.

Discord sends what was typed unless a suggestion was picked, so a title may come whole or in
part ("federated learning", "is complexity req"). Ids and links are resolved by the store.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.text import fold, words


def named_title(typed: str, titles: Iterable[tuple[str, str]]) -> str | None:
    """The id of the title ``typed`` names among ``titles`` ((id, title), best ranked first): one
    equal to it (case and accents aside), else the first holding every typed word, the last one
    possibly unfinished (as the first suggestion would be). None when no title fits."""
    ranked = list(titles)
    wanted = fold(typed).strip()
    for paper_id, title in ranked:
        if fold(title).strip() == wanted:
            return paper_id
    typed_words = words(typed)
    if not typed_words:
        return None
    *whole, last = typed_words
    for paper_id, title in ranked:
        have = words(title)
        if all(word in have for word in whole) and any(word.startswith(last) for word in have):
            return paper_id
    return None
