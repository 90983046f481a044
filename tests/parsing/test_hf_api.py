"""The HF API parser on hostile answers: any JSON value in any field is a clean result or a ParseError."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.urls import web_url
from bot.errors import ParseError
from bot.parsing.hf_api import parse_hf_api
from tests.property_budget import examples


def answer(**paper: Any) -> bytes:
    item = {"paper": {"id": "2407.21018", "title": "ThinK", "summary": "An abstract.", **paper}}
    return json.dumps([item]).encode()


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"[" * 100_000, 1),
        (b"{" + b'"a": {' * 50_000, 1),
        (b'[{"paper": {"id": "2407.21018",\n"x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}}]", 2),
        (b'[\n"[[[[ brackets in a string do not count",\n' + b"[\n" * 20_000 + b"]" * 20_000 + b"]", 102),
    ],
)
def test_deeply_nested_json_is_a_clear_error_naming_the_line(data: bytes, line: int) -> None:
    with pytest.raises(ParseError) as caught:
        parse_hf_api(data, source="deep.json")
    assert "nested more than" in caught.value.reason and caught.value.line == line


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hello", ("hello",)),
        (["kv cache", 5, None, "", {"a": 1}, "  pruning  "], ("kv cache", "pruning")),
        (["\u200b", "\u200b\u200d ", "kv\u200b cache"], ("kv cache",)),  # blank once cleaned: left out
        ({"hello": 1}, ()),
        (42, ()),
        (None, ()),
    ],
)
def test_ai_keywords_of_any_shape_are_whole_keywords(value: object, expected: tuple[str, ...]) -> None:
    [listed] = parse_hf_api(answer(ai_keywords=value))
    assert listed.paper.ai_keywords == expected


def test_an_author_named_only_by_zero_width_characters_is_left_out() -> None:
    authors = [{"name": "\u200b"}, {"name": "Ada\u200b Lovelace"}, {"name": "\u2060\ufeff"}]
    [listed] = parse_hf_api(answer(authors=authors))
    assert listed.paper.authors == ("Ada Lovelace",)


@pytest.mark.parametrize("field", ["githubRepo", "projectPage", "thumbnail"])
@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/a b",
        "https://github.com/a\tb",
        " https://ex ample.org",
        "javascript:alert(1)",
        "ftp://example.org/x",
        "https://",
        "https://exa_mple.org/",
        "https://example.org:99999/",
        "https://example.org/<x>",
        "https://example.org/" + "a" * 600,
        "github.com/a/b",
    ],
)
def test_links_discord_would_refuse_are_dropped(field: str, url: str) -> None:
    data = (
        json.dumps([{"paper": {"id": "2407.21018", "title": "T", "summary": "S"}, "thumbnail": url}]).encode()
        if field == "thumbnail"
        else answer(**{field: url})
    )
    [listed] = parse_hf_api(data)
    paper = listed.paper
    assert (paper.code_url, paper.project_url, paper.thumbnail_url) == (None, None, None)


def test_good_links_are_kept_and_non_ascii_is_percent_encoded() -> None:
    [listed] = parse_hf_api(
        answer(githubRepo="https://github.com/a/b", projectPage="https://ex.org/café?q=1#x")
    )
    assert listed.paper.code_url == "https://github.com/a/b"
    assert listed.paper.project_url == "https://ex.org/caf%C3%A9?q=1#x"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(st.characters()),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
PAPER_FIELDS = [
    "id", "title", "summary", "authors", "publishedAt", "submittedOnDailyAt", "upvotes", "ai_summary",
    "ai_keywords", "githubRepo", "projectPage",
]  # fmt: skip
ITEM_FIELDS = ["publishedAt", "title", "thumbnail", "organization"]
# Every text a JSON string can hold, lone surrogates included.
hostile_text = st.text(st.characters(codec=None, categories=None), max_size=30)


@settings(max_examples=examples(300))
@given(
    st.dictionaries(st.sampled_from(PAPER_FIELDS), json_values | hostile_text),
    st.dictionaries(st.sampled_from(ITEM_FIELDS), json_values | hostile_text),
)
def test_any_value_in_any_field_parses_cleanly_or_is_a_parse_error(
    paper: dict[str, Any], item: dict[str, Any]
) -> None:
    data = json.dumps([{**item, "paper": paper}]).encode()
    try:
        parsed = parse_hf_api(data)
    except ParseError:
        return
    for listed in parsed:
        p = listed.paper
        texts = [p.title, p.abstract, *p.authors, *p.ai_keywords, p.ai_summary or "", p.organization or ""]
        assert all(isinstance(t, str) for t in texts) and p.title
        assert all(p.authors) and all(p.ai_keywords)  # no blank name or keyword (a menu label)
        "".join(texts).encode("utf-8")  # storable: no lone surrogates
        assert p.upvotes is None or type(p.upvotes) is int
        for url in (p.code_url, p.project_url, p.thumbnail_url, p.hf_url):
            assert url is None or web_url(url) == url
