"""A paper's content hash is what every stored row's ``content_hash`` was made from: made faster
(the source's enum repr written from a table; the repr written in C where the extension was built),
it must give the same hex string for every paper, or every stored paper would read as changed at
its next listing (an update, a new version of the row, its search document rewritten) for nothing.
Both digests are tested: the compiled one and the Python one a machine without a compiler uses."""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import bot.domain.models as models
from bench.similar import CORPUS, FALLBACK_CORPUS, corpus_papers
from bot.domain._content_hash import digest
from bot.domain.models import Paper, Source, merge, python_content_hash
from bot.parsing.formats import parse_file
from tests.storage.test_ingest_equivalence import unicode_papers

FIXTURES = Path(__file__).parent.parent / "fixtures"


def hash_as_stored(paper: Paper) -> str:
    """The content hash as the stored rows were made: the repr of the values tuple, hashed."""
    names = ("created_at", "updated_at", "title_key")
    content = tuple(getattr(paper, name) for name in Paper.__dataclass_fields__ if name not in names)
    return hashlib.blake2b(repr(content).encode("utf-8"), digest_size=16).hexdigest()


@pytest.fixture(params=["compiled", "python"], autouse=True)
def digest_used(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every test here runs with the compiled digest and again with the Python one."""
    if request.param == "python":
        monkeypatch.setattr(models, "_compiled_digest", None)
    else:
        assert models._compiled_digest is digest  # the extension is built where the tests run
    yield request.param


def real_papers(tmp_path: Path) -> list[Paper]:
    """Every paper of the recorded sources: thirty Hugging Face API days, a daily-list answer, an
    arXiv RSS and an Atom feed, and the unicode papers of the ingest tests."""
    with tarfile.open(FIXTURES / "hf-api-days.tar.xz") as archive:
        archive.extractall(tmp_path, filter="data")
    files = sorted((tmp_path / "hf-api-days").glob("*.json"))
    files += [
        FIXTURES / name
        for name in ("hf_daily_2024-07-31.json", "arxiv_rss_cs.LG.xml", "arxiv_atom_query.xml")
    ]
    listed = [item for path in files for item in parse_file(path.read_bytes(), source=path.name)]
    listed += unicode_papers()
    return [item.paper for item in listed]


def test_every_recorded_paper_keeps_the_hash_its_stored_row_holds(tmp_path: Path) -> None:
    papers = real_papers(tmp_path)
    assert len(papers) > 600
    assert {type(paper.source) for paper in papers} == {Source, str}  # parsed members and plain text
    assert {paper.source for paper in papers} >= {Source.HF_API, Source.ARXIV_RSS, Source.ARXIV_ATOM}
    for paper in papers:
        assert paper.content_hash() == hash_as_stored(paper), paper.id
    # A paper read back from a row holds its source as plain text: the hash differs from the
    # member's, as it always did (the ingest compares a merged paper's hash with the stored one's,
    # both made from the stored row's source).
    listed = next(paper for paper in papers if type(paper.source) is Source)
    assert (
        Paper(listed.title, listed.abstract, str(listed.source)).content_hash()
        != Paper(listed.title, listed.abstract, listed.source).content_hash()
    )


def test_a_merged_paper_keeps_the_hash_it_had() -> None:
    stored = Paper("A title", "An abstract.", "hf-api", arxiv_id="2401.00001", upvotes=3)
    incoming = Paper(
        "A title", "An abstract, revised.", Source.ARXIV_ATOM, arxiv_id="2401.00001", arxiv_version=2
    )
    merged = merge(stored, incoming)
    assert merged.content_hash() == hash_as_stored(merged)


@given(
    title=st.text(max_size=40),
    abstract=st.text(max_size=80),
    source=st.one_of(st.sampled_from(list(Source)), st.text(max_size=12)),
    authors=st.lists(st.text(max_size=12), max_size=4),
    upvotes=st.none() | st.integers(-5, 10**6),
    first_listed=st.none() | st.dates(min_value=date(1990, 1, 1)),
    keywords=st.lists(st.text(max_size=8), max_size=3),
    version=st.none() | st.integers(1, 30),
)
def test_any_paper_hashes_as_its_stored_row_did(
    title: str,
    abstract: str,
    source: str,
    authors: list[str],
    upvotes: int | None,
    first_listed: date | None,
    keywords: list[str],
    version: int | None,
) -> None:
    paper = Paper(
        title,
        abstract,
        source,
        authors=tuple(authors),
        upvotes=upvotes,
        first_listed=first_listed,
        ai_keywords=tuple(keywords),
        arxiv_version=version,
    )
    assert paper.content_hash() == hash_as_stored(paper)


def test_every_paper_of_the_real_corpus_keeps_its_hash() -> None:
    if not any((folder / "hf_daily_papers.jsonl").exists() for folder in (CORPUS, FALLBACK_CORPUS)):
        pytest.skip("the HF Daily Papers corpus is not on this machine")
    papers = [item.paper for item in corpus_papers()]
    assert len(papers) > 10_000
    mismatched = [paper.id for paper in papers if paper.content_hash() != hash_as_stored(paper)]
    assert mismatched == []


# Text repr must escape or quote differently: quotes of both kinds, backslashes, control characters
# (C0, DEL, C1), characters str.isprintable rejects (separators, format, unassigned, private use),
# lone surrogates, wide characters past U+FFFF, and any character at all.
HOSTILE_CHARACTERS = (
    st.sampled_from(list("'\"\\\t\n\r\x00\x07\x1b\x7f\x80\x9f\xa0\xad\u2028\u200b\ufeff\U0001f600\U000e0001"))
    | st.sampled_from(["\ud800", "\udfff", "\udce9", "\ue000", "\U0010ffff", "\u0378", "é", "日"])
    | st.characters(codec=None, categories=None)
)
HOSTILE_TEXT = st.text(HOSTILE_CHARACTERS, max_size=30)
HOSTILE_VALUE = st.recursive(
    st.none()
    | HOSTILE_TEXT
    | st.integers()  # past 64 bits too
    | st.booleans()
    | st.dates()
    | st.datetimes()  # a date subclass: its own repr
    | st.sampled_from(list(Source))
    | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=4).map(tuple),
    max_leaves=12,
)


@given(values=st.lists(HOSTILE_VALUE, max_size=20).map(tuple))
def test_the_compiled_digest_is_the_digest_of_the_repr_of_any_values(values: tuple[object, ...]) -> None:
    expected = hashlib.blake2b(repr(values).encode("utf-8"), digest_size=16).hexdigest()
    assert digest(values, models._MEMBER_REPRS) == expected


@given(
    title=HOSTILE_TEXT,
    abstract=HOSTILE_TEXT,
    authors=st.lists(HOSTILE_TEXT, max_size=3),
    keywords=st.lists(HOSTILE_TEXT, max_size=3),
    organization=st.none() | HOSTILE_TEXT,
    published=st.none() | st.dates() | st.datetimes(),
    upvotes=st.none() | st.integers(),
)
def test_a_hostile_paper_hashes_the_same_in_c_and_python(
    title: str,
    abstract: str,
    authors: list[str],
    keywords: list[str],
    organization: str | None,
    published: date | datetime | None,
    upvotes: int | None,
) -> None:
    paper = Paper(
        title,
        abstract,
        Source.HF_API,
        authors=tuple(authors),
        ai_keywords=tuple(keywords),
        organization=organization,
        published=published,
        upvotes=upvotes,
    )
    assert paper.content_hash() == python_content_hash(paper) == hash_as_stored(paper)
