"""One paper's text is capped, whichever parser read it: SQLite stored a huge paper whole (in every
index), while PostgreSQL's search column caps at 1 MB. A field over its limit is cut to it and the
cut named as that entry (its line or record) trimmed; nothing else of the paper changes."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bot.cli import app
from bot.domain.models import Paper
from bot.parsing import limits
from bot.parsing.formats import parse_file
from bot.parsing.limits import within_limits
from bot.parsing.skipped import SkippedEntry
from tests.property_budget import examples

LIMITED = {"title", "abstract", "ai_summary", "authors", "ai_keywords"}


def _long(limit: int) -> st.SearchStrategy[str]:
    """Text of any length up to a little past ``limit`` (mostly near it: where a cut could slip)."""
    lengths = st.one_of(
        st.integers(0, 40), st.integers(max(0, limit - 3), limit + 3), st.integers(0, 2 * limit)
    )
    return st.builds(
        lambda sample, n: (sample * (n // len(sample) + 1))[:n], st.text(min_size=1, max_size=8), lengths
    )


def _many(most: int, chars: int) -> st.SearchStrategy[tuple[str, ...]]:
    counts = st.one_of(st.integers(0, 4), st.integers(most - 2, most + 2))
    return st.builds(
        lambda names, n: tuple(names[i % len(names)] for i in range(n)),
        st.lists(_long(chars), min_size=1, max_size=4),
        counts,
    )


papers = st.builds(
    Paper,
    title=_long(limits.TITLE_CHARS).filter(bool),
    abstract=_long(limits.ABSTRACT_CHARS),
    source=st.sampled_from(["hf-api", "hf-page", "arxiv-rss", "arxiv-atom"]),
    arxiv_id=st.one_of(st.none(), st.just("2607.00001")),
    authors=_many(limits.AUTHORS, limits.AUTHOR_CHARS),
    ai_summary=st.one_of(st.none(), _long(limits.SUMMARY_CHARS)),
    ai_keywords=_many(limits.KEYWORDS, limits.KEYWORD_CHARS),
    upvotes=st.one_of(st.none(), st.integers(0, 10_000)),
    published=st.one_of(st.none(), st.dates()),
)


@settings(max_examples=examples(60), deadline=None)
@given(papers)
def test_any_paper_comes_out_within_the_limits_with_nothing_else_changed(paper: Paper) -> None:
    kept, cuts = within_limits(paper)
    assert len(kept.title) <= limits.TITLE_CHARS and len(kept.abstract) <= limits.ABSTRACT_CHARS
    assert kept.ai_summary is None or len(kept.ai_summary) <= limits.SUMMARY_CHARS
    assert len(kept.authors) <= limits.AUTHORS and all(len(a) <= limits.AUTHOR_CHARS for a in kept.authors)
    assert len(kept.ai_keywords) <= limits.KEYWORDS
    assert all(len(k) <= limits.KEYWORD_CHARS for k in kept.ai_keywords)
    for field in fields(Paper):
        if field.name not in LIMITED and field.init:
            assert getattr(kept, field.name) == getattr(paper, field.name), field.name
    # What is kept of each field is its beginning: a real paper (within the limits) is untouched.
    assert paper.title.startswith(kept.title) and paper.abstract.startswith(kept.abstract)
    assert (paper.ai_summary or "").startswith(kept.ai_summary or "")
    assert all(whole.startswith(cut) for whole, cut in zip(paper.authors, kept.authors, strict=False))
    assert all(whole.startswith(cut) for whole, cut in zip(paper.ai_keywords, kept.ai_keywords, strict=False))
    assert (kept == paper) == (cuts == []) and (kept is paper) == (cuts == [])


HUGE = "word " * 6_000  # 30,000 characters


def _hf_api() -> bytes:
    paper = {
        "id": "2607.00001",
        "title": "A Survey",
        "summary": HUGE,
        "publishedAt": "2026-07-01T00:00:00.000Z",
        "authors": [{"name": f"Author {n}"} for n in range(limits.AUTHORS + 5)],
    }
    return json.dumps(
        [{"paper": {"id": "2607.00002", "title": "Small", "summary": "s"}}, {"paper": paper}], indent=1
    ).encode()


RSS = f"""<?xml version='1.0' encoding='UTF-8'?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>
<pubDate>Thu, 30 May 2024 00:00:00 -0400</pubDate>
<item><title>A Survey</title><link>https://arxiv.org/abs/2405.18001</link>
<description>Abstract: {HUGE}</description><dc:creator>Ann Lee</dc:creator></item>
</channel></rss>""".encode()
ATOM = f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>q</title>
<entry><id>http://arxiv.org/abs/2405.18443v1</id><published>2024-05-28T17:59:59Z</published>
<title>{"Long " * 300}</title><summary>y</summary><author><name>B</name></author></entry>
</feed>""".encode()
PAGE = f"""Jul 30

A Survey

{HUGE}
""".encode()

ABSTRACT_CUT = f"its abstract ({len(HUGE.strip()):,} characters) cut to {limits.ABSTRACT_CHARS:,}"


@pytest.mark.parametrize(
    ("data", "trimmed"),
    [
        (
            _hf_api(),
            SkippedEntry(
                "f",
                "item 2 (2607.00001)",
                f"{ABSTRACT_CUT}; its {limits.AUTHORS + 5:,} author names cut to the first "
                f"{limits.AUTHORS:,}",
                line=10,
                trimmed=True,
            ),
        ),
        (
            RSS,
            SkippedEntry("f", "item linking to https://arxiv.org/abs/2405.18001", ABSTRACT_CUT, trimmed=True),
        ),
        (
            ATOM,
            SkippedEntry(
                "f",
                "entry http://arxiv.org/abs/2405.18443v1",
                f"its title (1,499 characters) cut to {limits.TITLE_CHARS:,}",
                trimmed=True,
            ),
        ),
        (PAGE, SkippedEntry("f", "title 'A Survey'", ABSTRACT_CUT, line=3, trimmed=True)),
    ],
    ids=["hf-api", "arxiv-rss", "arxiv-atom", "hf-page"],
)
def test_every_parser_cuts_a_huge_paper_and_names_where_it_was(data: bytes, trimmed: SkippedEntry) -> None:
    notes: list[SkippedEntry] = []
    listed = parse_file(data, source="f", today=date(2026, 7, 31), skipped=notes)
    assert notes == [trimmed]
    for one in listed:
        assert within_limits(one.paper)[1] == []
    big = max(listed, key=lambda one: len(one.paper.abstract) + len(one.paper.title))
    assert big.paper.title.startswith(("A Survey", "Long Long")) and big.paper.abstract.startswith(
        ("word", "y")
    )
    if big.credits is not None:  # the Hugging Face author slots, cut as the names are
        assert len(big.credits.authors) == len(big.paper.authors) == limits.AUTHORS


def test_ingest_stores_the_trimmed_paper_and_says_so(tmp_path: Path) -> None:
    path, db = tmp_path / "2026-07-01.json", tmp_path / "s.db"
    path.write_bytes(_hf_api())
    result = CliRunner().invoke(app, ["ingest", str(path), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "2 new, 0 updated, 0 unchanged, 1 trimmed\n"
    assert result.stderr.splitlines() == [
        f"trimmed: {path}, line 10: item 2 (2607.00001): {ABSTRACT_CUT}; its {limits.AUTHORS + 5:,} author "
        f"names cut to the first {limits.AUTHORS:,}"
    ]
    shown = CliRunner().invoke(app, ["show", "2607.00001", "--json", "--db", str(db)])
    stored = json.loads(shown.stdout)
    assert len(stored["authors"]) == limits.AUTHORS


def test_a_paper_within_the_limits_is_kept_whole() -> None:
    paper = Paper("A Survey", "x" * limits.ABSTRACT_CHARS, "hf-api", authors=("Ann Lee",) * limits.AUTHORS)
    assert within_limits(paper) == (paper, [])
    assert within_limits(replace(paper, abstract=paper.abstract + "y"))[1] == [
        f"its abstract ({limits.ABSTRACT_CHARS + 1:,} characters) cut to {limits.ABSTRACT_CHARS:,}"
    ]
