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

# Real answers nest about five levels; Python's parser recurses once per level.
MAX_DEPTH = 100
_BRACKET_OR_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def parse_hf_api(
    data: bytes,
    *,
    source: str = "<hf api>",
    list_date: date | None = None,
    default_date: date | None = None,
) -> list[ListedPaper]:
    """Papers of one day's list, in the API's (ranked) order.

    ``list_date`` is the day asked for (a fetch of ``?date=D``): every item is on that list.
    ``default_date`` is the day for items that do not say which list they are on.
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
    return [_listed(item, rank, source, list_date, fallback) for rank, item in enumerate(items, 1)]


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


def _listed(item: Any, rank: int, source: str, list_date: date | None, fallback: date | None) -> ListedPaper:
    where = f"item {rank}"
    if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
        raise ParseError(f"{where} has no 'paper' object", source=source)
    paper = item["paper"]
    title = clean_line(_text(paper.get("title")) or _text(item.get("title")))
    if not title:
        raise ParseError(f"{where} has no title", source=source)
    arxiv_id = parse_arxiv_id(_text(paper.get("id")))
    organization: dict[str, Any] = item["organization"] if isinstance(item.get("organization"), dict) else {}
    day = list_date or _date(paper.get("submittedOnDailyAt")) or fallback
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
            published=_date(paper.get("publishedAt")),
            first_listed=day,
            hf_url=hf_paper_url(arxiv_id) if arxiv_id else None,
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
