"""Recorded Hugging Face daily lists whose counts grow from one fetch to the next.

A list is what ``GET /api/daily_papers?date=D`` answers: the real item shape (see the fixture
``hf_daily_2024-07-31.json``), with the upvotes, comments and stars a paper had at that fetch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.domain.models import ListedPaper
from bot.parsing.hf_api import parse_hf_api

if TYPE_CHECKING:
    from bot.services.container import Services

Votes = Callable[[int], int]  # upvotes at the paper's k-th fetch since it was listed (k = 0, 1, ...)


@dataclass(frozen=True)
class Recorded:
    arxiv_id: str
    title: str
    listed: date
    votes: Votes
    authors: Sequence[dict[str, Any]] = field(default_factory=lambda: [{"name": "Ada Lovelace"}])
    organization: dict[str, str] | None = None
    github: str | None = None


def item(paper: Recorded, fetch: int, *, comments: int = 0, stars: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": paper.arxiv_id,
        "title": paper.title,
        "summary": f"An abstract about {paper.title.lower()}.",
        "authors": list(paper.authors),
        "publishedAt": f"{paper.listed.isoformat()}T00:00:00.000Z",
        "submittedOnDailyAt": f"{paper.listed.isoformat()}T00:00:00.000Z",
        "upvotes": paper.votes(fetch),
    }
    if paper.github:
        body["githubRepo"] = paper.github
        body["githubStars"] = stars
    answer: dict[str, Any] = {"paper": body, "numComments": comments, "title": paper.title}
    if paper.organization:
        answer["organization"] = paper.organization
    return answer


def answer(papers: Sequence[Recorded], day: date, fetch_of: Callable[[Recorded], int]) -> bytes:
    """The API's answer for ``day`` as it stood at a fetch (``fetch_of`` tells each paper's k)."""
    items = [item(p, fetch_of(p), comments=fetch_of(p)) for p in papers if p.listed == day]
    items.sort(key=lambda i: -int(i["paper"]["upvotes"]))
    return json.dumps(items).encode()


def listed(papers: Sequence[Recorded], day: date, fetch_of: Callable[[Recorded], int]) -> list[ListedPaper]:
    return parse_hf_api(answer(papers, day, fetch_of), list_date=day)


def fetch_index(paper: Recorded, now: datetime) -> int:
    """How many fetches of its list came before this one (first at 08:00 on its day, then every 12 h)."""
    first = datetime(paper.listed.year, paper.listed.month, paper.listed.day, 8, tzinfo=UTC)
    return max(0, int((now - first) / timedelta(hours=12)))


async def refetch_week(services: Services, papers: Sequence[Recorded], moment: datetime) -> None:
    """One fetch of the refresh at ``moment``: the last 7 days' lists, each as it stands then."""
    for back in range(6, -1, -1):
        list_day = moment.date() - timedelta(days=back)
        items = listed(papers, list_day, lambda p: fetch_index(p, moment))
        if items:
            await services.papers.ingest(items)
