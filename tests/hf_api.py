"""A loopback Hugging Face Daily Papers API whose lists change while a test runs (papers are added
during the day, upvotes move), and which counts what it was asked."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
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

    def add(self, day: date, *items: dict[str, Any]) -> None:
        self.lists.setdefault(day, []).extend(items)

    def asked(self, day: date) -> int:
        return self.requests.count(day)

    async def handle(self, request: web.Request) -> web.Response:
        day = date.fromisoformat(request.query["date"])
        self.requests.append(day)
        if self.failing:
            return web.Response(status=503, text="down")
        body = json.dumps(self.lists.get(day, []))
        return web.Response(text=body, content_type="application/json")


@asynccontextmanager
async def fake_hf_api() -> AsyncIterator[FakeHfApi]:
    api = FakeHfApi()
    async with loopback_server(api.handle) as base:
        api.url = base + "/api/daily_papers"
        yield api
