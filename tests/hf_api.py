"""A loopback Hugging Face Daily Papers API whose lists change while a test runs (papers are added
during the day, upvotes move), and which counts what it was asked."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.loopback import loopback_server


def hf_item(arxiv_id: str, title: str, *, upvotes: int = 0, summary: str = "An abstract.") -> dict[str, Any]:
    """One entry as the API answers it (the fields paperbot reads)."""
    return {
        "paper": {
            "id": arxiv_id,
            "title": title,
            "summary": summary,
            "authors": [{"name": "A. Author"}],
            "upvotes": upvotes,
            "publishedAt": "2026-01-01T00:00:00.000Z",
        },
        "title": title,
    }


@dataclass
class FakeHfApi:
    lists: dict[date, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[date] = field(default_factory=list)  # the dates asked for, in order
    failing: bool = False
    url: str = ""
    # Recorded answers for a date, replayed in order (the last one repeats): a list as it grows.
    replays: dict[date, list[list[dict[str, Any]]]] = field(default_factory=dict)
    # While ``hold`` is set, each request is held mid-answer (``held`` set) until ``release`` is.
    hold: asyncio.Event = field(default_factory=asyncio.Event)
    held: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, day: date, *items: dict[str, Any]) -> None:
        self.lists.setdefault(day, []).extend(items)

    def asked(self, day: date) -> int:
        return self.requests.count(day)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        day = date.fromisoformat(request.query["date"])
        self.requests.append(day)
        if self.failing:
            return web.Response(status=503, text="down")
        answers = self.replays.get(day)
        if answers:
            self.lists[day] = answers.pop(0) if len(answers) > 1 else answers[0]
        body = json.dumps(self.lists.get(day, []))
        if self.hold.is_set():
            return await self._held_answer(request, body.encode())
        return web.Response(text=body, content_type="application/json")

    async def _held_answer(self, request: web.Request, body: bytes) -> web.StreamResponse:
        """The headers and half the body, then nothing more until ``release``."""
        answer = web.StreamResponse(headers={"Content-Type": "application/json"})
        answer.content_length = len(body)
        await answer.prepare(request)
        await answer.write(body[: len(body) // 2])
        self.held.set()
        await self.release.wait()
        with contextlib.suppress(ConnectionResetError):  # the client may have gone meanwhile
            await answer.write(body[len(body) // 2 :])
        return answer


@asynccontextmanager
async def fake_hf_api() -> AsyncIterator[FakeHfApi]:
    api = FakeHfApi()
    async with loopback_server(api.handle) as base:
        api.url = base + "/api/daily_papers"
        yield api


FIXTURES = Path(__file__).parent / "fixtures"


def recorded_day() -> list[dict[str, Any]]:
    """A real day's finished list as the API answered it (40 papers, 2026-02-03)."""
    items: list[dict[str, Any]] = json.loads((FIXTURES / "hf_daily_2026-02-03_40.json").read_text())
    return items


def morning_of(items: list[dict[str, Any]], count: int = 12) -> list[dict[str, Any]]:
    """The same list early in its day: fewer papers (every third), fewer upvotes so far."""
    early = []
    for item in items[::3][:count]:
        paper = {**item["paper"], "upvotes": item["paper"].get("upvotes", 0) // 2}
        early.append({**item, "paper": paper})
    return early
