"""A keyword follow matches the papers a search for the same word finds, on both backends: the two
split text with one tokenizer (bot.domain.text), so a follow of 扩散 hears about 扩散模型的研究
as search finds it, and accents, ß and compatibility forms fold alike.

Follows fold plurals (``models`` = ``model``) and search does not: the papers' words and the
words drawn here are their own singular, so the two must agree exactly. Authors are left out:
search looks in them, follows of a word do not (author follows do)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.follows import FollowMatcher, paper_words, parse_keyword, stem
from bot.domain.models import ListedPaper, Paper, Source
from bot.domain.text import typed_words, words
from bot.services.papers import PaperService
from tests.property_budget import examples

# Titles and abstracts written as people write them: Chinese and Japanese without spaces, accents,
# ß, full-width and ligature letters; each held by some papers and not others.
TEXTS = [
    ("扩散模型的研究", "我们研究图像生成的扩散模型。An abstract long enough to be one, about diffusion."),
    ("拡散モデルによる画像生成", "日本語の論文です。An abstract about generative image diffusion."),
    ("深層学習の理論", "ひらがなとカタカナ。An abstract about the theory of deep learning."),
    ("Die Straße der Modelle", "Eine STRASSE, kein Weg: an abstract about a road and its map."),
    ("Élan vital in naïve agent", "A naive abstract on elan and an agent that act with a certain flair."),
    ("Kırmızı ﬁne tuning", "An abstract about fine tuning a Turkish KIRMIZI model for a red apple."),
    ("Ｆｕｌｌ width ＧＰＴ", "An abstract about full width letter in GPT prompt and their token."),
    ("大規模言語モデル Large Language Model", "An abstract about a large language model agent and 研究."),
]
CORPUS_WORDS = sorted({run for title, abstract in TEXTS for run in f"{title} {abstract}".split()})


def listed(number: int, title: str, abstract: str) -> ListedPaper:
    paper = Paper(title=title, abstract=abstract, source=Source.HF_API, arxiv_id=f"2501.{number:05d}")
    return ListedPaper(paper)


def singular(text: str) -> bool:
    return all(stem(word) == word for word in words(text))


def one_word(text: str) -> bool:
    """A word as typed (one run of letters; a Han or kana run is one word), its own singular, and
    no operator of the follow grammar."""
    return len(typed_words(text)) == 1 and singular(text) and text.upper() not in ("AND", "OR", "NOT")


def substrings(text: str) -> st.SearchStrategy[str]:
    return st.tuples(st.integers(0, len(text) - 1), st.integers(1, 4)).map(
        lambda at: text[at[0] : at[0] + at[1]]
    )


QUERIES = (
    st.sampled_from(CORPUS_WORDS).flatmap(substrings)  # any piece of a word: 扩散, 学習, traß
    | st.sampled_from(CORPUS_WORDS).map(lambda w: w.strip(",.:。"))
    | st.sampled_from(CORPUS_WORDS).map(lambda w: w.strip(",.:。").upper())  # STRASSE, ÉLAN
    | st.sampled_from(["strasse", "STRASSE", "Straße", "elan", "naive", "kirmizi", "fine", "gpt", "full"])
    | st.text(alphabet="扩散模型的研究拡モデル日本語のßéÉıａｂfinesaEL", min_size=1, max_size=4)
).filter(one_word)


@pytest.mark.hypothesis  # its property runs inside: `make stress` selects it by this mark
async def test_a_follow_of_a_word_matches_exactly_what_a_search_for_it_finds(service: PaperService) -> None:
    assert all(singular(title) and singular(abstract) for title, abstract in TEXTS)
    papers = [listed(n, title, abstract) for n, (title, abstract) in enumerate(TEXTS, 1)]
    await service.ingest(papers)
    loop = asyncio.get_running_loop()

    def searched(word: str) -> set[str]:
        found = asyncio.run_coroutine_threadsafe(service.search.find(word, limit=100), loop).result()
        return {hit.paper.arxiv_id or "" for hit in found.hits if not hit.fuzzy}  # as typed, not respelt

    def followed(word: str) -> set[str]:
        matcher = FollowMatcher([(1, parse_keyword(word))])
        return {
            p.paper.arxiv_id or ""
            for p in papers
            if matcher.match(paper_words(p.paper.title, p.paper.abstract, ()))
        }

    @settings(max_examples=examples(80))
    @given(QUERIES)
    def check(word: str) -> None:
        assert followed(word) == searched(word), word

    def named() -> None:  # the words the bug report named, whatever hypothesis draws
        for word in (
            "扩散",
            "模型",
            "日本語",
            "学習",
            "Straße",
            "strasse",
            "ELAN",
            "kirmizi",
            "ﬁne",
            "ｇｐｔ",
        ):
            assert followed(word) == searched(word) != set(), word

    # Hypothesis drives the examples from a thread; each search runs on this test's event loop.
    await asyncio.to_thread(named)
    await asyncio.to_thread(check)
