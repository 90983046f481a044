"""Choosing a paper's distinctive terms for "more like this"."""

from __future__ import annotations

from bot.domain.similar import TITLE_WEIGHT, candidate_terms, distinctive_terms


def test_title_words_count_more_and_stop_words_numbers_and_short_words_are_dropped() -> None:
    abstract = "We propose sparse attention in 3 steps; it is fast."
    counts = candidate_terms("Sparse Attention for Video", abstract)
    assert counts["sparse"] == TITLE_WEIGHT + 1 and counts["video"] == TITLE_WEIGHT
    assert not {"we", "propose", "for", "in", "it", "is", "3"} & set(counts)
    assert {"steps", "fast"} <= set(counts)


def test_frequent_rare_terms_win_and_useless_ones_are_left_out() -> None:
    frequencies = {"sparse": 4, "attention": 4, "model": 2, "zebrafish": 1, "unique": 1}
    docs = {"sparse": 50, "attention": 400, "model": 900, "zebrafish": 3, "unique": 1}
    chosen = distinctive_terms(frequencies, docs, total=1000)
    # attention and model: in over 10% of papers; unique: in no other paper.
    assert [t.term for t in chosen] == ["sparse", "zebrafish"]


def test_document_counts_fit_the_budget() -> None:
    frequencies = {f"w{i}": 1 for i in range(20)}
    docs = {f"w{i}": 40 + i for i in range(20)}
    chosen = distinctive_terms(frequencies, docs, total=10_000, budget=200)
    assert sum(t.docs for t in chosen) <= 200 and len(chosen) == 4
