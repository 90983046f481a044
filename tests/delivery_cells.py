"""The delivery fault matrix's cells and the papers they send, shared by the simcord matrix
(tests/cogs/test_delivery_matrix.py) and the real-process cells (tests/e2e/test_exactly_once.py).

Which cells (docs/reliability.md says why): every fault at **every part of a 5-part send** for the
recoveries where the part's position decides what the recovering code must do (``resume``: the
same process retries from the parts it recorded; ``restart``: a new process must wait for the
lease and then find the unrecorded part by marker or nonce; ``admin``: ``/digest resume`` or the
member's ``/follow`` must keep every part already sent). The recoveries about what changed around
the send (``reranked`` list, ``busy`` channel, ``two`` processes) run at every part of a **3-part
send**: first, middle and last part are all there is to position for them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

import pytest

from bot.domain.models import ListedPaper, Paper, Source

FAULTS = ("5xx", "403", "50007", "timeout", "kill")
POSITIONAL = ("resume", "restart", "admin")
SURROUNDINGS = ("reranked", "busy", "two")
RECOVERIES = POSITIONAL + SURROUNDINGS
# How many papers make a send of 3 or 5 parts: a digest's max_papers, an alert DM's matches.
DIGEST_PAPERS = {3: 35, 5: 50}
ALERT_PAPERS = {3: 40, 5: 60}
EXTRA_LISTED = 10  # listed beyond the digest's max: a re-ranked list changes which papers make it

TITLE = re.compile(r"Diffusion study (\d{3})")
ABSTRACT = ("We study diffusion models for video generation and editing at scale; " * 6)[:400]
AUTHORS = ("Ada Lovelace", "Alan Turing", "Grace Hopper")


def title(number: int) -> str:
    """Paper ``number``'s title; every alert keyword ``diffusion`` matches it."""
    return f"Diffusion study {number:03d}: scaling denoisers for video"


def daily_list(count: int, *, day: date, reverse: bool = False, first: int = 1) -> list[ListedPaper]:
    """``day``'s list of papers ``first``.. ``first + count - 1``; ``reverse``: the same re-ranked."""
    listed = list(range(first, first + count))
    ranked = list(reversed(listed)) if reverse else listed
    return [
        ListedPaper(
            Paper(
                title=title(n),
                abstract=ABSTRACT,
                source=Source.HF_API,
                arxiv_id=f"2601.{n:05d}",
                authors=AUTHORS,
                upvotes=200 - rank,
            ),
            day,
            rank,
        )
        for rank, n in enumerate(ranked, 1)
    ]


def parts_for(recovery: str) -> int:
    return 5 if recovery in POSITIONAL else 3


def cells() -> list[Any]:
    """(fault, parts, part, recovery) for every cell, as pytest params with readable ids."""
    found = []
    for fault in FAULTS:
        for recovery in RECOVERIES:
            parts = parts_for(recovery)
            for part in range(1, parts + 1):
                found.append(
                    pytest.param(fault, parts, part, recovery, id=f"{fault}-{part}of{parts}-{recovery}")
                )
    return found


def counted(texts: Iterable[str]) -> Counter[str]:
    """How often each paper (its number) appears in ``texts`` (embed descriptions)."""
    found: Counter[str] = Counter()
    for text in texts:
        found.update(TITLE.findall(text))
    return found


def numbers(first: int, last: int) -> Counter[str]:
    """Papers ``first``..``last``, each exactly once: what a delivery must come to."""
    return Counter(f"{n:03d}" for n in range(first, last + 1))
