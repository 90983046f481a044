"""Feed entries a real feed could not send are skipped and named, the rest of the feed kept.

A real arXiv RSS item or Atom entry names its paper by an arXiv id, and an Atom entry and a
Hugging Face item date it in the format their feed promises (tests/fixtures, the shared corpus).
The trial fed `<id>http://arxiv.org/abs/garbage</id>`, `<published>notadate</published>`, an RSS
item with no link and `publishedAt: "2026-13-45…"`: each was stored, with a made-up id or its
date lost. The properties: every entry is either stored (with its real id and date) or skipped
and named (an RSS item or Atom entry by its id, link or title, its position only when it has none;
a JSON record by its position, its line and its id), never both and never neither, and without a
list to collect them in the first malformed entry refuses the whole input.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.ids import parse_arxiv_id
from bot.domain.text import clean_line
from bot.errors import ParseError
from bot.parsing.arxiv import parse_arxiv_atom, parse_arxiv_rss
from bot.parsing.hf_api import parse_hf_api
from bot.parsing.skipped import SkippedEntry, shown

GOOD_IDS = st.builds(lambda a, b: f"{2300 + a % 100:04d}.{b:05d}", st.integers(0, 99), st.integers(0, 99999))
# Ids and dates as a mangled feed might hold them: real ones, near misses, and any text.
IDS = st.one_of(
    GOOD_IDS,
    st.sampled_from(["garbage", "", "2405.1844", "abs/2405", "hep-th/990100"]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=20),
)
GOOD_DATES = st.dates(date(1991, 1, 1), date(2030, 12, 31))
ISO_TIMES = st.one_of(
    GOOD_DATES.map(lambda d: f"{d.isoformat()}T17:59:59Z"),
    st.sampled_from(
        ["notadate", "2026-13-45T00:00:00.000Z", "2026-02-30", "yesterday", "2024-05-28T25:00:00Z"]
    ),
    st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=20),
)


def iso_date(text: str) -> date | None:
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00")).date()
    except ValueError:
        return None


def atom(entries: list[tuple[str, str]]) -> bytes:
    body = "".join(
        f"<entry><id>{escape(i)}</id><published>{escape(p)}</published><title>Paper {n}</title>"
        f"<summary>About {n}.</summary><author><name>A {n}</name></author></entry>"
        for n, (i, p) in enumerate(entries, 1)
    )
    return f'<feed xmlns="http://www.w3.org/2005/Atom"><title>q</title>{body}</feed>'.encode()


@given(st.lists(st.tuples(IDS.map(lambda i: f"http://arxiv.org/abs/{i}"), ISO_TIMES), max_size=8))
def test_an_atom_entry_is_stored_with_its_id_and_date_or_skipped_by_its_id(
    entries: list[tuple[str, str]],
) -> None:
    skipped: list[SkippedEntry] = []
    papers = parse_arxiv_atom(atom(entries), source="feed.atom", skipped=skipped)
    good = [
        (n, parse_arxiv_id(i), iso_date(p))
        for n, (i, p) in enumerate(entries, 1)
        if parse_arxiv_id(i) and iso_date(p)
    ]
    assert [(p.paper.title, p.paper.arxiv_id, p.paper.published) for p in papers] == [
        (f"Paper {n}", arxiv_id, published) for n, arxiv_id, published in good
    ]
    kept = {n for n, _, _ in good}
    assert [s.entry for s in skipped] == [
        f"entry {shown(clean_line(i))}" for n, (i, _) in enumerate(entries, 1) if n not in kept
    ]
    assert all(s.source == "feed.atom" for s in skipped)
    if skipped:  # nowhere to collect them: the first one refuses the feed, naming it
        with pytest.raises(ParseError, match=re.escape(f"feed.atom: {skipped[0].entry}")):
            parse_arxiv_atom(atom(entries), source="feed.atom")


def rss(items: list[tuple[str | None, str | None, str | None]]) -> bytes:
    def item(n: int, link: str | None, guid: str | None, published: str | None) -> str:
        parts = [f"<title>Paper {n}</title><description>Abstract: about {n}.</description>"]
        if link is not None:
            parts.append(f"<link>{escape(link)}</link>")
        if guid is not None:
            parts.append(f"<guid>{escape(guid)}</guid>")
        if published is not None:
            parts.append(f"<pubDate>{escape(published)}</pubDate>")
        return "<item>" + "".join(parts) + "</item>"

    body = "".join(item(n, *parts) for n, parts in enumerate(items, 1))
    return (
        "<rss version='2.0'><channel><title>t</title><pubDate>Thu, 30 May 2024 00:00:00 -0400</pubDate>"
        f"{body}</channel></rss>"
    ).encode()


RSS_DATES = st.one_of(
    st.none(), st.just("Fri, 31 May 2024 00:00:00 -0400"), st.sampled_from(["notadate", "32 May"])
)


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), IDS.map(lambda i: f"https://arxiv.org/abs/{i}")),
            st.one_of(st.none(), IDS.map(lambda i: f"oai:arXiv.org:{i}")),
            RSS_DATES,
        ),
        max_size=8,
    )
)
def test_an_rss_item_without_an_arxiv_id_or_with_a_bad_date_is_skipped_the_rest_kept(
    items: list[tuple[str | None, str | None, str | None]],
) -> None:
    skipped: list[SkippedEntry] = []
    papers = parse_arxiv_rss(rss(items), source="feed.rss", skipped=skipped)

    def arxiv_id(link: str | None, guid: str | None) -> str | None:
        return parse_arxiv_id(link or "") or parse_arxiv_id((guid or "").removeprefix("oai:arXiv.org:"))

    good = [
        (n, arxiv_id(link, guid), date(2024, 5, 31) if published else date(2024, 5, 30))
        for n, (link, guid, published) in enumerate(items, 1)
        if arxiv_id(link, guid) and published in (None, "Fri, 31 May 2024 00:00:00 -0400")
    ]
    assert [(p.paper.title, p.paper.arxiv_id, p.list_date) for p in papers] == [
        (f"Paper {n}", i, day) for n, i, day in good
    ]
    kept = {n for n, _, _ in good}

    def named(n: int, link: str | None, guid: str | None) -> str:
        if guid and clean_line(guid):
            return f"item {shown(clean_line(guid))}"
        if link and clean_line(link):
            return f"item linking to {shown(clean_line(link))}"
        return f"item titled 'Paper {n}'"

    assert [s.entry for s in skipped] == [
        named(n, link, guid) for n, (link, guid, _) in enumerate(items, 1) if n not in kept
    ]


def hf_item(paper_id: Any, published: Any, listed: Any) -> dict[str, Any]:
    paper: dict[str, Any] = {"title": f"Paper {paper_id}", "summary": "s", "authors": [{"name": "A"}]}
    for key, value in (("id", paper_id), ("publishedAt", published), ("submittedOnDailyAt", listed)):
        if value is not None:
            paper[key] = value
    return {"paper": paper}


HF_DATES = st.one_of(st.none(), ISO_TIMES, st.integers(0, 10**10))


@given(st.lists(st.tuples(st.one_of(IDS, st.none(), st.integers()), HF_DATES, HF_DATES), max_size=8))
def test_an_hf_item_with_a_date_that_is_not_one_or_no_arxiv_id_is_skipped_the_rest_kept(
    items: list[tuple[Any, Any, Any]],
) -> None:
    data = json.dumps([hf_item(*item) for item in items]).encode()
    skipped: list[SkippedEntry] = []
    papers = parse_hf_api(data, source="day.json", list_date=date(2026, 7, 2), skipped=skipped)

    def valid(value: Any) -> bool:
        return value is None or (isinstance(value, str) and iso_date(value) is not None)

    good = [
        (rank, parse_arxiv_id(i), iso_date(p) if p is not None else None)
        for rank, (i, p, listed) in enumerate(items, 1)
        if isinstance(i, str) and parse_arxiv_id(i) and valid(p) and valid(listed)
    ]
    # A skipped item keeps its rank out of the list: the others keep the API's ranks.
    assert [(p.rank, p.paper.arxiv_id, p.paper.published) for p in papers] == good
    kept = {rank for rank, _, _ in good}
    assert [s.entry.split(" (")[0] for s in skipped] == [
        f"item {rank}" for rank in range(1, len(items) + 1) if rank not in kept
    ]
    if skipped:
        with pytest.raises(
            ParseError, match=re.escape(f"{skipped[0].where}: {skipped[0].entry}: {skipped[0].reason}")
        ):
            parse_hf_api(data, source="day.json", list_date=date(2026, 7, 2))


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (
            hf_item("2607.00001", "2026-13-45T00:00:00.000Z", None),
            "publishedAt '2026-13-45T00:00:00.000Z' is not a date",
        ),
        (hf_item("2607.00001", None, "notaday"), "submittedOnDailyAt 'notaday' is not a date"),
        (hf_item("2607.00001", 20260701, None), "its publishedAt is a number, not a date"),
        (hf_item("garbage", None, None), "its id is not an arXiv id"),
        (hf_item(None, None, None), "no id"),
        ({"paper": {"id": "2607.00001", "title": 5}}, "its title is a number, not text"),
        ({"paper": {"id": "2607.00001", "title": ["A", "B"]}}, "its title is a list, not text"),
        ({"nothing": 1}, "no 'paper' object"),
    ],
)
def test_each_hf_reason_says_what_is_wrong_with_the_field(item: dict[str, Any], reason: str) -> None:
    skipped: list[SkippedEntry] = []
    assert parse_hf_api(json.dumps([item]).encode(), source="d.json", skipped=skipped) == []
    [entry] = skipped
    assert entry.reason == reason and entry.entry.startswith("item 1")


def test_the_recorded_feeds_lose_no_entry() -> None:
    """The rules reject nothing arXiv or Hugging Face really sends."""
    fixtures = Path(__file__).parent.parent / "fixtures"
    for name, parse in (
        ("arxiv_atom_query.xml", parse_arxiv_atom),
        ("arxiv_rss_cs.LG.xml", parse_arxiv_rss),
        ("hf_daily_2024-07-31.json", parse_hf_api),
        ("hf_daily_2026-02-03_40.json", parse_hf_api),
    ):
        skipped: list[SkippedEntry] = []
        assert parse((fixtures / name).read_bytes(), skipped=skipped), name
        assert skipped == [], name
