"""The Hugging Face Daily Papers API: ``GET /api/daily_papers?date=YYYY-MM-DD``.

Each item holds ``paper`` (id = arXiv id, title, summary, authors[].name, publishedAt, upvotes,
optional ai_summary/ai_keywords/githubRepo/projectPage) plus top-level ``thumbnail``,
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
from datetime import date, datetime
from typing import Any

from bot.domain.ids import hf_paper_url, parse_arxiv_id
from bot.domain.models import ListedPaper, Paper, Source
from bot.domain.text import clean_line, without_lone_surrogates
from bot.errors import ParseError


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
        items = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ParseError("not UTF-8 text", source=source) from None
    except json.JSONDecodeError as exc:
        raise ParseError(f"not valid JSON ({exc.msg})", source=source, line=exc.lineno) from None
    if not isinstance(items, list):
        raise ParseError("expected a JSON array of daily papers", source=source)
    fallback = list_date or default_date or _answer_day(items)
    return [_listed(item, rank, source, list_date, fallback) for rank, item in enumerate(items, 1)]


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
    organization = item.get("organization") if isinstance(item.get("organization"), dict) else None
    day = list_date or _date(paper.get("submittedOnDailyAt")) or fallback
    authors = tuple(
        clean_line(a["name"])
        for a in paper.get("authors") or ()
        if isinstance(a, dict) and _text(a.get("name"))
    )
    keywords = tuple(
        clean_line(k) for k in paper.get("ai_keywords") or () if isinstance(k, str) and k.strip()
    )
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
            organization=clean_line(_text(organization.get("fullname") or organization.get("name")))
            if organization
            else None,
            upvotes=paper.get("upvotes") if isinstance(paper.get("upvotes"), int) else None,
            ai_summary=clean_line(_text(paper.get("ai_summary"))) or None,
            ai_keywords=keywords,
        ),
        day,
        rank,
    )


def _text(value: object) -> str:
    return without_lone_surrogates(value) if isinstance(value, str) else ""


def _url(value: object) -> str | None:
    text = _text(value).strip()
    return text if text.startswith(("https://", "http://")) else None


def _date(value: object) -> date | None:
    text = _text(value)
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None
