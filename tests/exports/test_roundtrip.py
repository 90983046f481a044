"""Exports load in real reference-manager parsers (bibtexparser, rispy, csv) with nothing lost."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import bibtexparser
import rispy
from bibtexparser.middlewares.names import split_multiple_persons_names
from hypothesis import given
from hypothesis import strategies as st

from bench.corpus import generate
from bot.domain.library import LibraryEntry
from bot.domain.models import ListedPaper, Paper, Source
from bot.exports import ExportFormat, plain, render
from bot.exports.bibtex import citation_keys, url_value

SAVED = datetime(2026, 8, 1, tzinfo=UTC)
_UNESCAPE = {
    r"\textbackslash{}": "\\",
    r"\textasciicircum{}": "^",
    r"\textasciitilde{}": "~",
    r"\textbraceleft{}": "{",
    r"\textbraceright{}": "}",
    **{"\\" + c: c for c in "$&#%_"},
}
_ESCAPED = re.compile("|".join(re.escape(k) for k in sorted(_UNESCAPE, key=len, reverse=True)))

HOSTILE_TITLES = [
    "Attention Is All You Need",
    "}}} @article{evil, title={pwned}",
    "100% of $x^2$ & #tags ~ under_scores \\input{/etc/passwd}",
    "Unbalanced { brace",
    "Line\nbreak\r\nTY  - JOUR\nER  - ",
    '=HYPERLINK("http://evil")',
    "@everyone Ünïcödé 𝓐𝓽𝓽𝓮𝓷𝓽𝓲𝓸𝓷 注意力 \u202eevil",
    "",
    "\\",
    "% comment",
]


def unescape(value: str) -> str:
    return _ESCAPED.sub(lambda m: _UNESCAPE[m.group(0)], value)


def entries_for(papers: list[Paper]) -> list[LibraryEntry]:
    return [
        LibraryEntry(
            i,
            p,
            SAVED,
            read_at=SAVED if i % 2 == 0 else None,
            tags=("to-read", "a&b") if i % 3 else (),
            note="50% {done}",
        )
        for i, p in enumerate(papers)
    ]


def check_bibtex(entries: list[LibraryEntry]) -> None:
    _, data = render(ExportFormat.BIBTEX, entries)
    library = bibtexparser.parse_string(data.decode("utf-8"))
    assert library.failed_blocks == []
    assert len(library.entries) == len(entries)
    keys = [e.key for e in library.entries]
    assert keys == citation_keys(entries) and len(set(keys)) == len(keys)
    for parsed, entry in zip(library.entries, entries, strict=True):
        paper = entry.paper
        fields = parsed.fields_dict
        assert parsed.entry_type == "misc"
        assert unescape(fields["title"].value) == plain(paper.title)
        if paper.arxiv_id:
            assert fields["eprint"].value == paper.arxiv_id
            assert fields["archivePrefix"].value == "arXiv"
            if paper.primary_class:
                assert fields["primaryClass"].value == paper.primary_class
            else:
                assert "primaryClass" not in fields
            assert fields["url"].value == paper.abs_url
        elif paper.url:
            assert fields["howpublished"].value.startswith("\\url{")
        names = [n for n in paper.authors if plain(n)]
        if names:
            assert len(split_multiple_persons_names(fields["author"].value)) == len(names)


def check_ris(entries: list[LibraryEntry]) -> None:
    _, data = render(ExportFormat.RIS, entries)
    records = rispy.loads(data.decode("utf-8"))
    assert len(records) == len(entries)
    for record, entry in zip(records, entries, strict=True):
        paper = entry.paper
        assert record["type_of_reference"] == ("ELEC" if paper.url else "GEN")
        assert record.get("title", "") == plain(paper.title)
        assert record.get("authors", []) == [plain(a) for a in paper.authors if plain(a)]
        category = [paper.primary_class] if paper.primary_class else []
        assert record.get("keywords", []) == [*category, *entry.tags]


def check_csv(entries: list[LibraryEntry]) -> None:
    _, data = render(ExportFormat.CSV, entries)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert len(rows) == len(entries)
    for row, entry in zip(rows, entries, strict=True):
        assert row["id"] == entry.paper.id
        assert not row["title"].startswith(("=", "+", "-", "@"))
        title = row["title"]
        if title.startswith("'"):
            title = title[1:]  # the spreadsheet guard: its marker, hidden by the spreadsheet
        assert title == plain(entry.paper.title)


def test_vaswani_style_keys_deduplicated_with_suffixes() -> None:
    def paper(arxiv_id: str, title: str, year: int, author: str = "Ashish Vaswani") -> Paper:
        return Paper(
            title, "", Source.HF_API, arxiv_id=arxiv_id, authors=(author,), published=date(year, 6, 1)
        )

    entries = entries_for(
        [
            paper("1706.03762", "Attention Is All You Need", 2017),
            paper("1706.03763", "Attention is all you need (again)", 2017),
            paper("1706.03764", "The Attention Trick", 2017),
            paper("2001.00001", "On Attention", 2020, author="Émile Ça-Vaut, Jr"),
        ]
    )
    assert citation_keys(entries) == [
        "vaswani2017attention",
        "vaswani2017attentiona",
        "vaswani2017attentionb",
        "emilecavaut2020attention",
    ]
    # Stable: the same papers in another order keep their keys.
    assert sorted(citation_keys(entries[::-1])) == sorted(citation_keys(entries))


def test_bibtex_entry_shape_for_arxiv_and_other_papers() -> None:
    arxiv = Paper(
        "A & B", "x", Source.HF_API, arxiv_id="2507.01234", published=date(2025, 7, 2), primary_class="cs.LG"
    )
    other = Paper("C_D", "y", Source.HF_PAGE, hf_url="https://example.org/p?a=1&b=2")
    _, data = render(ExportFormat.BIBTEX, entries_for([arxiv, other]))
    text = data.decode()
    assert "title = {A \\& B}" in text and "month = jul" in text and "year = {2025}" in text
    assert "eprint = {2507.01234}" in text and "archivePrefix = {arXiv}" in text
    assert "primaryClass = {cs.LG}" in text
    assert text.count("primaryClass") == 1  # not for the paper whose category is unknown
    assert "howpublished = {\\url{https://example.org/p?a=1&b=2}}" in text
    assert url_value("https://x.org/{a} b\\") == "https://x.org/%7Ba%7D%20b%5C"  # always balanced
    assert "title = {C\\_D}" in text


def test_bundled_sample_round_trips(sample_papers: list[ListedPaper]) -> None:
    entries = entries_for([item.paper for item in sample_papers])
    assert len(entries) > 20
    check_bibtex(entries)
    check_ris(entries)
    check_csv(entries)


def test_a_thousand_synthetic_papers_round_trip_with_unique_keys() -> None:
    entries = entries_for([item.paper for item in generate(1000)])
    check_bibtex(entries)
    check_ris(entries)
    check_csv(entries)


def test_hostile_titles_round_trip() -> None:
    papers = [
        Paper(title, "abs } {", Source.HF_PAGE, authors=("R and D Team", "Doe, J.", " "), hf_url=None)
        for title in HOSTILE_TITLES
    ]
    entries = entries_for(papers)
    check_bibtex(entries)
    check_ris(entries)
    check_csv(entries)


@given(
    st.lists(
        st.tuples(
            st.text(max_size=80),
            st.lists(st.text(min_size=1, max_size=30), max_size=4),
            st.booleans(),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_text_round_trips(items: list[tuple[str, list[str], bool]]) -> None:
    papers = [
        Paper(
            title,
            title[::-1],
            Source.HF_API,
            arxiv_id=f"2601.{i:05d}" if arxiv else None,
            authors=tuple(au),
            primary_class=("cs.LG", "hep-th", "math.GT", None)[i % 4] if arxiv else None,
        )
        for i, (title, au, arxiv) in enumerate(items)
    ]
    entries = entries_for(papers)
    check_bibtex(entries)
    check_ris(entries)
    check_csv(entries)


def test_a_title_starting_with_an_apostrophe_keeps_it_in_a_spreadsheet() -> None:
    # A spreadsheet hides one leading apostrophe (its text marker): "'@home" exported as is would
    # show as "@home", and read the same as the guarded formula "@home".
    titles = ["'@home", "@home", "'quoted'", "plain"]
    _, data = render(ExportFormat.CSV, entries_for([Paper(t, "", Source.HF_API) for t in titles]))
    cells = [row["title"] for row in csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))]
    assert cells == ["''@home", "'@home", "''quoted'", "plain"]
    assert [c[1:] if c.startswith("'") else c for c in cells] == titles
