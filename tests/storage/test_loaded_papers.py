"""A cold load's own map of the rows it wrote (bot.storage.loaded_papers) finds what the look-up
statement would find in a store holding only those rows: by id or title key, after merges that
change a row's id (a page capture taking its arXiv id) or its title key (a retitled paper), and
with two arXiv papers sharing one title key."""

from __future__ import annotations

from bot.storage.loaded_papers import LoadedPapers


def test_rows_are_found_by_id_or_title_key_as_they_are_now() -> None:
    loaded = LoadedPapers()
    loaded.inserted([(1, "t-abc", "sparse mixtures"), (2, "2602.1", "attention"), (3, "2602.2", "attention")])
    assert loaded.matching(["t-abc"], []) == [1]
    assert loaded.matching([], ["attention"]) == [2, 3]  # two arXiv papers of one title
    assert loaded.matching(["2602.2"], ["sparse mixtures"]) == [1, 3]
    assert loaded.matching(["2602.9"], ["unknown"]) == []

    # The page capture's row takes its arXiv paper's id: found by the new id, not the old.
    loaded.rewritten(1, ("t-abc", "sparse mixtures"), ("2602.3", "sparse mixtures"))
    assert loaded.matching(["t-abc"], []) == []
    assert loaded.matching(["2602.3"], []) == [1]
    assert loaded.matching([], ["sparse mixtures"]) == [1]

    # One of the two papers sharing a title is retitled: the other keeps the old title's key.
    loaded.rewritten(2, ("2602.1", "attention"), ("2602.1", "attention is enough"))
    assert loaded.matching([], ["attention"]) == [3]
    assert loaded.matching([], ["attention is enough"]) == [2]
    loaded.rewritten(3, ("2602.2", "attention"), ("2602.2", "attention again"))
    assert loaded.matching([], ["attention"]) == []
    assert loaded.matching(["2602.1", "2602.2"], []) == [2, 3]
