"""The Hugging Face Daily Papers API: ``GET /api/daily_papers?date=YYYY-MM-DD``.

Each item holds ``paper`` (id = arXiv id, title, summary, authors[].name, publishedAt, upvotes,
optional ai_summary/ai_keywords/githubRepo/githubStars/projectPage) plus top-level ``thumbnail``,
``numComments``, ``submittedBy`` and ``organization``. Optional fields may be absent or null and
unknown fields are ignored. An empty array (weekends, holidays) is a normal answer.

The list day of an item is ``paper.submittedOnDailyAt``: the day it was put on the list. The
top-level ``publishedAt`` is when it was submitted, often days earlier, so taking it splits one real
list into fragments. Older answers lack ``submittedOnDailyAt``; one answer is one day's list, so those
items share one day: the file's date when known (a name like ``2024-12-06.json``), else the latest
``submittedOnDailyAt`` or top-level ``publishedAt`` in the answer.

What an item must have: a ``paper`` object with its arXiv id and a title (every item of every
recorded answer and of the 10k-paper corpus has them). ``publishedAt`` and ``submittedOnDailyAt``
may be missing (older answers lack the latter), but one that is there and is not a date (month
13) makes the item skipped (bot.parsing.skipped) rather than stored with its date lost. A field
of the wrong type (a number for a title) is named with the type it has.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from bot.domain.ids import hf_paper_url, parse_arxiv_id
from bot.domain.models import ListedPaper, Paper, Signals, Source
from bot.domain.people import AuthorCredit, Credits
from bot.domain.text import clean_line, clean_lines, without_lone_surrogates
from bot.domain.urls import web_url
from bot.errors import ParseError
from bot.parsing.limits import listed_within_limits, note_cuts
from bot.parsing.skipped import SkippedEntry, entry_name, quoted, skip

# Real answers nest about five levels; Python's parser recurses once per level.
MAX_DEPTH = 100
_BRACKET_OR_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def parse_hf_api(
    data: bytes,
    *,
    source: str = "<hf api>",
    list_date: date | None = None,
    default_date: date | None = None,
    skipped: list[SkippedEntry] | None = None,
) -> list[ListedPaper]:
    """Papers of one day's list, in the API's (ranked) order (a skipped item keeps its rank).

    ``list_date`` is the day asked for (a fetch of ``?date=D``): every item is on that list.
    ``default_date`` is the day for items that do not say which list they are on. Malformed
    items go to ``skipped`` (None: they refuse the whole answer).
    """
    try:
        text = data.decode("utf-8-sig")
        items = json.loads(text)
    except UnicodeDecodeError:
        raise ParseError("not UTF-8 text", source=source) from None
    except json.JSONDecodeError as exc:
        raise ParseError(f"not valid JSON ({exc.msg})", source=source, line=exc.lineno) from None
    except RecursionError:
        line = _too_deep_at(text)
        raise ParseError(
            f"JSON nested more than {MAX_DEPTH} levels deep: not a daily papers list",
            source=source,
            line=line,
        ) from None
    if not isinstance(items, list):
        raise ParseError("expected a JSON array of daily papers", source=source)
    fallback = list_date or default_date or _answer_day(items)
    papers = []
    positions = _ItemPositions(text)
    for rank, item in enumerate(items, 1):
        try:
            listed = _listed(item, rank, list_date, fallback)
        except _Malformed as bad:
            skip(skipped, source, bad.entry, bad.reason, line=positions.line(rank, bad.field))
            continue
        listed, cuts = listed_within_limits(listed)
        if cuts:  # rare: the item's name and line are found only then, from the one cut
            where = entry_name("item", rank, item["paper"]["id"])
            note_cuts(skipped, source, where, cuts, line=positions.line(rank, ("paper",)))
        papers.append(listed)
    return papers


class _Malformed(Exception):
    def __init__(self, entry: str, reason: str, field: tuple[str, ...] = ()) -> None:
        self.entry, self.reason, self.field = entry, reason, field


_ITEM_GAP = re.compile(r"[\s,]*")  # between the top-level array's items
_KEY_END = re.compile(r"\s*:")  # after a string that is an object's key


class _ItemPositions:
    """The line of an item's field, for naming a malformed item. ``json.loads`` keeps no positions,
    so the answer's items are found again, only once one is malformed: a good answer (the 10k-paper
    corpus) pays nothing for it."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts: list[int] | None = None

    def line(self, rank: int, field: tuple[str, ...]) -> int | None:
        if self._starts is None:
            self._starts = self._item_starts()
        if rank > len(self._starts):
            return None
        start = self._starts[rank - 1]
        end = self._starts[rank] if rank < len(self._starts) else len(self._text)
        return self._text.count("\n", 0, self._key_at(start, end, field)) + 1

    def _item_starts(self) -> list[int]:
        text, decoder = self._text, json.JSONDecoder()
        starts: list[int] = []
        position = text.index("[") + 1
        while True:
            gap = _ITEM_GAP.match(text, position)
            position = gap.end() if gap else position
            if position >= len(text) or text[position] == "]":
                return starts
            starts.append(position)
            _, position = decoder.raw_decode(text, position)

    def _key_at(self, start: int, end: int, field: tuple[str, ...]) -> int:
        """Where the key ``field`` (a path: ("paper", "title")) is in the item at ``start``; as
        far down the path as the item goes (its start when not even the first key is there)."""
        found, depth, matched = start, 0, 0
        for token in _BRACKET_OR_STRING.finditer(self._text, start, end):
            bracket = token.group()
            if bracket in "[{":
                depth += 1
            elif bracket in "]}":
                depth -= 1
                if depth < matched + 1 and matched:  # the object holding the next key closed
                    return found
            elif (
                matched < len(field)
                and depth == matched + 1
                and _KEY_END.match(self._text, token.end())
                and json.loads(bracket) == field[matched]
            ):
                found, matched = token.start(), matched + 1
                if matched == len(field):
                    return found
        return found


def _kind(value: object) -> str:
    """What a JSON value is, as a reader would say it."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "text"


def _stated_date(paper: dict[str, Any], key: str, where: str) -> date | None:
    """The date ``paper[key]`` holds; None when it is missing; _Malformed when it is not a date."""
    value = paper.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Malformed(where, f"its {key} is {_kind(value)}, not a date", ("paper", key))
    day = _date(value)
    if day is None:
        raise _Malformed(where, f"{key} {quoted(value)} is not a date", ("paper", key))
    return day


def _too_deep_at(text: str) -> int | None:
    """The line where ``text`` first nests deeper than MAX_DEPTH (brackets inside strings skipped)."""
    depth = 0
    for token in _BRACKET_OR_STRING.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return text.count("\n", 0, token.start()) + 1
        elif bracket in "]}":
            depth -= 1
    return None


def _answer_day(items: list[Any]) -> date | None:
    """The day of an answer whose items do not all say it: the latest list day any item names."""
    days = [
        _date(item["paper"].get("submittedOnDailyAt")) or _date(item.get("publishedAt"))
        for item in items
        if isinstance(item, dict) and isinstance(item.get("paper"), dict)
    ]
    known = [day for day in days if day is not None]
    return max(known) if known else None


def _listed(item: Any, rank: int, list_date: date | None, fallback: date | None) -> ListedPaper:
    if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
        raise _Malformed(f"item {rank}", "no 'paper' object", ("paper",))
    paper = item["paper"]
    raw_id = paper.get("id")
    where = entry_name("item", rank, raw_id if isinstance(raw_id, str) else "")
    if raw_id is None:
        raise _Malformed(where, "no id", ("paper",))
    if not isinstance(raw_id, str):
        raise _Malformed(where, f"its id is {_kind(raw_id)}, not text", ("paper", "id"))
    arxiv_id = parse_arxiv_id(raw_id)
    if arxiv_id is None:
        raise _Malformed(where, "its id is not an arXiv id", ("paper", "id"))
    title_at: tuple[str, ...] = ("paper", "title")
    raw_title = paper.get("title")
    if raw_title is None or raw_title == "":  # some answers carry the title on the item only
        raw_title, title_at = item.get("title"), ("title",)
    if raw_title is not None and not isinstance(raw_title, str):
        raise _Malformed(where, f"its title is {_kind(raw_title)}, not text", title_at)
    title = clean_line(_text(raw_title))
    if not title:
        raise _Malformed(where, "no title", ("paper",))
    published = _stated_date(paper, "publishedAt", where)
    listed_on = _stated_date(paper, "submittedOnDailyAt", where)
    organization: dict[str, Any] = item["organization"] if isinstance(item.get("organization"), dict) else {}
    day = list_date or listed_on or fallback
    authors = clean_lines(_text(a.get("name")) for a in _array(paper.get("authors")) if isinstance(a, dict))
    keywords = _array(paper.get("ai_keywords"))
    if isinstance(paper.get("ai_keywords"), str):  # one keyword, not one per letter
        keywords = [paper["ai_keywords"]]
    keyword_texts = clean_lines(_text(k) for k in keywords)
    upvotes = paper.get("upvotes")
    return ListedPaper(
        Paper(
            title=title,
            abstract=clean_line(_text(paper.get("summary"))),
            source=Source.HF_API,
            arxiv_id=arxiv_id,
            authors=authors,
            published=published,
            first_listed=day,
            hf_url=hf_paper_url(arxiv_id),
            code_url=_url(paper.get("githubRepo")),
            project_url=_url(paper.get("projectPage")),
            thumbnail_url=_url(item.get("thumbnail")),
            organization=clean_line(_text(organization.get("fullname")) or _text(organization.get("name")))
            or None,
            upvotes=upvotes if isinstance(upvotes, int) and not isinstance(upvotes, bool) else None,
            ai_summary=clean_line(_text(paper.get("ai_summary"))) or None,
            ai_keywords=keyword_texts,
        ),
        day,
        rank,
        _signals(item, paper),
        _credits(paper, organization),
    )


def _credits(paper: dict[str, Any], organization: dict[str, Any] | None) -> Credits | None:
    """Author slots with the HF user who claimed each (``authors[].user.user``, if any), and the org."""
    slots = []
    for author in _array(paper.get("authors")):
        name = clean_line(_text(author.get("name"))) if isinstance(author, dict) else ""
        if not name:
            continue
        user = author.get("user")
        claimed = clean_line(_text(user.get("user"))) if isinstance(user, dict) else ""
        slots.append(AuthorCredit(name, claimed or None))
    org_id = clean_line(_text(organization.get("name"))) if organization else ""
    org_name = (
        clean_line(_text(organization.get("fullname") or organization.get("name"))) if organization else ""
    )
    if not slots and not org_id:
        return None  # every author is stored, claimed or not: /follow author offers them all
    return Credits(tuple(slots), org_id or None, org_name or None)


def _signals(item: dict[str, Any], paper: dict[str, Any]) -> Signals | None:
    upvotes = _count(paper.get("upvotes"))
    if upvotes is None:
        return None
    return Signals(upvotes, _count(item.get("numComments")), _count(paper.get("githubStars")))


def _count(value: object) -> int | None:
    # bool is an int in Python; a count is never true/false.
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _text(value: object) -> str:
    return without_lone_surrogates(value) if isinstance(value, str) else ""


def _array(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _url(value: object) -> str | None:
    return web_url(_text(value))


def _date(value: object) -> date | None:
    text = _text(value)
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None
