from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import ParseError
from bot.parsing.arxiv import parse_arxiv_atom, parse_arxiv_rss
from bot.parsing.formats import parse_file, sniff
from bot.parsing.hf_api import parse_hf_api
from tests.property_budget import examples

FIXTURES = Path(__file__).parent.parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_hf_api_items_become_ranked_papers_with_links() -> None:
    first, second, third = parse_hf_api(fixture("hf_daily_2024-07-31.json"), list_date=date(2024, 7, 31))
    paper = first.paper
    assert paper.title == "ThinK: Thinner Key Cache by Query-Driven Pruning"  # hard line break folded
    assert paper.arxiv_id == "2407.21018"
    assert paper.authors == ("Yuxin Wen", "Leo Marchyok", "Sanghyun Hong")
    assert paper.published == date(2024, 7, 30)
    assert (first.list_date, first.rank) == (date(2024, 7, 31), 1)
    assert paper.hf_url == "https://huggingface.co/papers/2407.21018"
    assert paper.code_url == "https://github.com/SalesforceAIResearch/ThinK"
    assert paper.thumbnail_url.endswith("2407.21018.png")
    assert paper.upvotes == 31 and paper.ai_keywords == ("KV cache", "pruning", "long context")
    assert paper.organization == "Salesforce AI Research"
    assert second.paper.arxiv_id == "2407.20999"  # version dropped
    assert second.paper.project_url is None and second.paper.thumbnail_url is None
    assert third.paper.ai_keywords == () and third.paper.ai_summary is None and third.rank == 3


def test_hf_api_empty_day_is_normal() -> None:
    assert parse_hf_api(b"[]") == []


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b'[{"paper": {"id": "1", "title": "x"', "not valid JSON"),
        (b"<!DOCTYPE html><html><body>Rate limited</body></html>", "not valid JSON"),
        (b'{"error": "Invalid date"}', "expected a JSON array"),
        (b'[{"nope": 1}]', "no 'paper' object"),
    ],
)
def test_hf_api_bad_answers_are_clear_errors(data: bytes, words: str) -> None:
    with pytest.raises(ParseError, match=words):
        parse_hf_api(data, source="api")


def test_arxiv_rss_keeps_new_and_cross_announcements() -> None:
    papers = parse_arxiv_rss(fixture("arxiv_rss_cs.LG.xml"), announce_types=("new", "cross"))
    assert [p.paper.arxiv_id for p in papers] == ["2405.18443", "2405.18001"]
    first = papers[0].paper
    assert first.abstract.startswith("We apply sparse autoencoders")
    assert first.authors == ("Jane Doe", "John Smith", "Akira Tanaka")
    assert first.code_url == "https://github.com/example/sae-rm"
    assert papers[0].list_date == date(2024, 5, 30)
    assert papers[1].paper.authors == ("Maria Garcia", "Wei Zhang")
    assert len(parse_arxiv_rss(fixture("arxiv_rss_cs.LG.xml"))) == 3


def test_arxiv_atom_entries() -> None:
    first, second = parse_arxiv_atom(fixture("arxiv_atom_query.xml"))
    assert first.paper.title == "Sparse Autoencoders Find Interpretable Features in Reward Models"
    assert first.paper.arxiv_id == "2405.18443" and first.paper.published == date(2024, 5, 28)
    assert first.list_date is None
    assert second.paper.arxiv_id == "hep-th/9901001"
    # The primary category where the entry names it (arxiv:primary_category), else unknown.
    assert first.paper.primary_class == "cs.LG" and second.paper.primary_class is None


def test_an_arxiv_atom_author_of_only_zero_width_characters_is_left_out() -> None:
    data = fixture("arxiv_atom_query.xml").replace(
        b"<author><name>John Smith</name></author>", "<author><name>\u200b\u2060</name></author>".encode()
    )
    first, _ = parse_arxiv_atom(data)
    assert first.paper.authors == ("Jane Doe",)


def test_arxiv_feeds_say_which_version_they_announce() -> None:
    # RSS: the versionless link gives the id, the guid the version ("replace" items: v2 or later).
    announced = {
        p.paper.arxiv_id: p.paper.arxiv_version for p in parse_arxiv_rss(fixture("arxiv_rss_cs.LG.xml"))
    }
    assert announced == {"2405.18443": 1, "2405.18001": 2, "2301.00001": 3}
    # Atom: the entry id names it.
    assert [p.paper.arxiv_version for p in parse_arxiv_atom(fixture("arxiv_atom_query.xml"))] == [1, 1]
    # Hugging Face never says: unknown, not v1.
    hf = parse_hf_api(fixture("hf_daily_2024-07-31.json"))
    assert {p.paper.arxiv_version for p in hf} == {None}


def test_unsafe_and_broken_xml_is_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><rss>&b;</rss>'
    with pytest.raises(ParseError, match="unsafe XML"):
        parse_arxiv_rss(bomb)
    with pytest.raises(ParseError, match="not well-formed"):
        parse_arxiv_rss(b"<rss><channel><item><title>cut")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("hf_daily_2024-07-31.json", "hf-api"),
        ("arxiv_rss_cs.LG.xml", "arxiv-rss"),
        ("arxiv_atom_query.xml", "arxiv-atom"),
    ],
)
def test_format_is_detected_from_content(name: str, kind: str) -> None:
    assert sniff(fixture(name)) == kind
    assert parse_file(fixture(name), source=name)


@settings(max_examples=examples(200), deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_parse_or_fail_cleanly_in_every_format(data: bytes) -> None:
    for parser in (parse_hf_api, parse_arxiv_rss, parse_arxiv_atom):
        with contextlib.suppress(ParseError):
            parser(data)
