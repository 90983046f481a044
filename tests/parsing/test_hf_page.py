from __future__ import annotations

import contextlib
import textwrap
from datetime import date

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.domain.models import Paper, Source
from bot.errors import ParseError
from bot.parsing.hf_page import _COUNT, _DATE, _META, parse_hf_page, render_hf_page
from tests.property_budget import examples

TODAY = date(2026, 11, 27)
ABSTRACT = (
    "We study a thing in depth. Our method improves the state of the art on many benchmarks while "
    "using fewer parameters, and we release everything at https://github.com/acme/thing. "
    "Experiments on ten datasets confirm the gains."
)


def parse(text: str | bytes, **kwargs: object) -> list:
    data = text.encode() if isinstance(text, str) else text
    return parse_hf_page(data, source="page.txt", today=TODAY, **kwargs)  # type: ignore[arg-type]


def test_bundled_sample_has_69_ranked_papers(sample_papers: list) -> None:
    assert len(sample_papers) == 69
    assert [p.rank for p in sample_papers] == list(range(1, 70))
    assert {p.list_date for p in sample_papers} == {date(2026, 7, 30)}
    first = sample_papers[0].paper
    assert first.title.startswith("Value Function is All You Need")
    assert first.source == Source.HF_PAGE
    pruning = next(p.paper for p in sample_papers if "Global Magnitude Pruning" in p.paper.title)
    assert pruning.code_url == "https://github.com/manasgupta-1/GlobalMP"


def test_bom_crlf_and_trailing_spaces() -> None:
    text = "\ufeffDaily Papers  \r\n\r\nJul 30   \r\n\r\nA Title  \r\n\r\n" + ABSTRACT + "  \r\n"
    [listed] = parse(text.encode("utf-8"))
    assert listed.paper.title == "A Title"
    assert listed.paper.abstract == ABSTRACT
    assert listed.paper.code_url == "https://github.com/acme/thing"


def test_several_date_sections_rank_from_one_each() -> None:
    text = f"Jul 30\n\nFirst\n\n{ABSTRACT}\n\nSecond\n\n{ABSTRACT}\n\nJul 29\n\nThird\n\n{ABSTRACT}\n"
    papers = parse(text)
    assert [(p.paper.title, p.list_date, p.rank) for p in papers] == [
        ("First", date(2026, 7, 30), 1),
        ("Second", date(2026, 7, 30), 2),
        ("Third", date(2026, 7, 29), 1),
    ]


def test_yearless_date_is_the_most_recent_not_in_the_future() -> None:
    text = f"Dec 24\n\nT\n\n{ABSTRACT}\n"
    assert parse(text)[0].list_date == date(2025, 12, 24)
    assert parse(text, year=2019)[0].list_date == date(2019, 12, 24)
    assert parse(f"Nov 27\n\nT\n\n{ABSTRACT}\n")[0].list_date == TODAY


def test_live_capture_extras_are_recognised() -> None:
    text = (
        "Daily Papers\n\nby AK and the research community\n\nMay 30\n\n"
        "42\n\nScaling Laws for Wrapped\nTitles Across Lines\n\n12 authors\n\nDeepMind\n\n"
        "Mar 8, 2024\n\n" + ABSTRACT + "\n\n5 comments\n\n★ 1.2k\n\n"
        "-\n\nSecond Paper\n\n" + ABSTRACT + "\n\n3\n\n"
    )
    first, second = parse(text)
    assert first.paper.title == "Scaling Laws for Wrapped Titles Across Lines"
    assert first.paper.upvotes == 42
    assert first.paper.organization == "DeepMind"
    assert first.paper.published == date(2024, 3, 8)
    assert first.list_date == date(2026, 5, 30)
    assert second.paper.title == "Second Paper"
    assert second.paper.upvotes == 0


def test_list_date_is_used_when_the_capture_has_no_date_line() -> None:
    [listed] = parse(f"Daily Papers\n\nSubscribe\n\nOnly Title\n\n{ABSTRACT}\n", list_date=date(2026, 1, 2))
    assert listed.list_date == date(2026, 1, 2)
    assert listed.paper.title == "Only Title"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (f"Jul 30\n\nLonely Title\n\nNext Title\n\n{ABSTRACT}\n", 3, "no abstract"),
        (f"Jul 30\n\nT\n\n{ABSTRACT}\n\nTruncated Title\n", 7, "the file ends"),
        (f"Jul 30\n\n{ABSTRACT}\n", 3, "no title"),
        (f"Some Title\n\n{ABSTRACT}\n", 1, "no date line"),
        ("Jul 30\n\nT\n\nab\x00cd\n", 5, "control characters"),
        ("Feb 31\n\nT\n\n" + ABSTRACT, 1, "not a valid date"),
    ],
)
def test_bad_input_names_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert caught.value.line == line
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"page.txt, line {line}:")


def test_empty_and_binary_files() -> None:
    with pytest.raises(ParseError, match="empty"):
        parse(b"  \n\n")
    with pytest.raises(ParseError, match="line 2: not UTF-8") as caught:
        parse(b"Jul 30\n\xff\xfe\x00garbage")
    assert caught.value.line == 2


_word = st.text(alphabet=st.characters(categories=("Lu", "Ll", "Nd")), min_size=1, max_size=10)
_title = st.lists(_word, min_size=2, max_size=12).map(" ".join).filter(lambda t: t[0].isupper() or True)
_sentence = st.lists(_word, min_size=8, max_size=20).map(lambda ws: " ".join(ws).capitalize() + ".")
_abstract = st.lists(_sentence, min_size=4, max_size=8).map(" ".join).filter(lambda a: len(a) >= 400)


@st.composite
def _pages(draw: st.DrawFn) -> list[tuple[date, list[Paper]]]:
    days = draw(st.lists(st.dates(date(2020, 1, 1), TODAY), min_size=1, max_size=3, unique=True))
    sections = []
    for day in sorted(days, reverse=True):
        titles = draw(st.lists(_title, min_size=1, max_size=4))
        papers = [Paper(title=t, abstract=draw(_abstract), source=Source.HF_PAGE) for t in titles]
        sections.append((day, papers))
    return sections


@settings(max_examples=examples(60), deadline=None)
@given(_pages())
def test_render_then_parse_round_trips(sections: list[tuple[date, list[Paper]]]) -> None:
    parsed = parse_hf_page(render_hf_page(sections).encode(), source="x", today=TODAY, year=None)
    expected = [
        (day, rank, p.title, p.abstract) for day, papers in sections for rank, p in enumerate(papers, 1)
    ]
    # Yearless date lines resolve to the most recent such day, which is the drawn day when within a year.
    got = [(p.list_date, p.rank, p.paper.title, p.paper.abstract) for p in parsed]
    assert [g[1:] for g in got] == [e[1:] for e in expected]
    for (got_day, *_), (day, *_) in zip(got, expected, strict=True):
        assert (got_day.month, got_day.day) == (day.month, day.day)


@settings(max_examples=examples(200), deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_parse_or_fail_cleanly(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse(data)


_NOT_TITLES = (_DATE, _COUNT, _META)


def _wrap_like_arxiv(title: str, at: int, abstract: str, *, layout: str) -> str:
    """A title wrapped over two lines as arXiv stores it ("first part\\n  rest")."""
    words = title.split()
    first, rest = " ".join(words[:at]), " ".join(words[at:])
    wrapped_abstract = "\n".join(textwrap.wrap(abstract, 79, break_long_words=False, break_on_hyphens=False))
    if layout == "blank-between-title-lines":
        return f"{first}\n\n  {rest}\n\n{abstract}"
    if layout == "abstract-right-below":
        return f"{first}\n  {rest}\n{wrapped_abstract}"
    return f"{first}\n  {rest}\n\n{wrapped_abstract}"


@settings(max_examples=examples(40), deadline=None)
@given(
    st.lists(st.tuples(_title, _abstract, st.integers(1, 11)), min_size=1, max_size=4),
    st.sampled_from(["blank-after-title", "blank-between-title-lines", "abstract-right-below"]),
)
def test_titles_wrapped_over_two_lines_parse(cards: list[tuple[str, str, int]], layout: str) -> None:
    cards = [(t, a, min(at, len(t.split()) - 1)) for t, a, at in cards]
    for title, _, at in cards:  # each half of the title reads as title text, not as a count or date
        for half in (" ".join(title.split()[:at]), " ".join(title.split()[at:])):
            assume(any(ch.isalpha() for ch in half) and not any(p.fullmatch(half) for p in _NOT_TITLES))
    body = "\n\n".join(_wrap_like_arxiv(t, at, a, layout=layout) for t, a, at in cards)
    parsed = parse_hf_page(f"Jul 30\n\n{body}\n".encode(), source="x", today=TODAY)
    assert [(p.paper.title, p.paper.abstract) for p in parsed] == [(t, a) for t, a, _ in cards]


def test_the_reported_wrapped_title_capture_parses() -> None:
    text = (
        "Jul 31\n\nThinK: Thinner Key Cache by Query-Driven\n  Pruning\n"
        "Large Language Models (LLMs) have revolutionized the field of natural language processing,\n"
        "achieving unprecedented performance. We propose ThinK, a query-dependent KV cache pruning\n"
        "method. Code is available at https://github.com/SalesforceAIResearch/ThinK.\n"
    )
    [paper] = parse_hf_page(text.encode(), source="x", today=TODAY)
    assert paper.paper.title == "ThinK: Thinner Key Cache by Query-Driven Pruning"
    assert paper.paper.code_url == "https://github.com/SalesforceAIResearch/ThinK"
