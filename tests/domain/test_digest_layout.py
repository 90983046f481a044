from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.digest import DigestPlan, digest_marker, parse_part, plan_digest
from bot.domain.models import Paper, Source
from tests.property_budget import examples

DAY = date(2026, 7, 30)


def paper(i: int, title_len: int = 80, abstract_len: int = 1500, authors: int = 3) -> Paper:
    return Paper(
        title=f"Paper {i} " + "T" * title_len,
        abstract="Sentence. " * (abstract_len // 10),
        source=Source.HF_API,
        arxiv_id=f"2607.{i:05d}",
        authors=tuple(f"Author {a}" for a in range(authors)),
        upvotes=i,
    )


def assert_within_limits(plan: DigestPlan) -> None:
    for message in plan.messages:
        assert 1 <= len(message.embeds) <= 10
        assert sum(e.size() for e in message.embeds) <= 6000
        for embed in message.embeds:
            assert len(embed.description) <= 4096
            assert len(embed.title or "") <= 256


def test_entries_keep_rank_order_and_parts_carry_markers() -> None:
    plan = plan_digest(DAY, DAY, [paper(i) for i in range(1, 51)], source="hf-api", max_papers=50)
    assert_within_limits(plan)
    assert plan.parts > 1
    text = "\n".join(e.description for m in plan.messages for e in m.embeds)
    positions = [text.index(f"**{rank}. [Paper {rank} ") for rank in range(1, 51)]
    assert positions == sorted(positions)
    for number, message in enumerate(plan.messages, 1):
        assert parse_part(message.embeds[0].footer or "", digest_marker(DAY)) == number
        assert parse_part(message.embeds[0].footer or "", digest_marker(date(2026, 7, 31))) is None


def test_header_counts_and_limits_to_max_papers() -> None:
    plan = plan_digest(DAY, DAY, [paper(i) for i in range(1, 21)], source="hf-api", max_papers=5)
    header = plan.messages[0].embeds[0]
    assert "Thursday 30 July 2026" in (header.title or "")
    assert header.description.startswith("5 papers from Hugging Face Daily Papers (top 5 of 20)")
    assert plan.paper_count == 5


def test_mentions_and_markdown_in_titles_are_inert() -> None:
    hostile = Paper(title="@everyone **Click** [here](https://x)", abstract="> quoted", source=Source.HF_API)
    plan = plan_digest(DAY, DAY, [hostile], source="hf-api", max_papers=10)
    body = plan.messages[0].embeds[1].description
    assert "@\u200beveryone" in body and "\\*\\*Click\\*\\*" in body and "\\[here\\]" in body


def test_note_only_post() -> None:
    plan = plan_digest(DAY, None, [], source="hf-api", max_papers=10, note="No new papers today.")
    assert plan.parts == 1 and plan.list_date is None
    assert "No new papers today." in plan.messages[0].embeds[0].description


@settings(max_examples=examples(40), deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 400), st.integers(0, 5000), st.integers(0, 300)), min_size=0, max_size=60
    ),
    st.integers(1, 50),
)
def test_any_list_fits_discord_limits(shapes: list[tuple[int, int, int]], max_papers: int) -> None:
    papers = [paper(i, t, a, n) for i, (t, a, n) in enumerate(shapes, 1)]
    plan = plan_digest(DAY, DAY, papers, source="hf-api", max_papers=max_papers)
    assert_within_limits(plan)
    assert plan.paper_count == min(len(papers), max_papers)


@pytest.mark.parametrize(
    ("footer", "part"),
    [
        ("digest 2026-07-30", 1),  # today's one-message post: the marker alone
        ("digest 2026-07-30 · 2 of 3", 2),  # today's multi-part wording
        ("digest 2026-07-30 · part 2/3", 2),  # posted by an older paperbot: still recognised
        ("digest 2026-07-30 · part 1/1", 1),
        ("digest 2026-07-30 2/3", 2),
        ("digest 2026-07-31", None),
        ("digest 2026-07-30-extra", None),
        ("alerts #1", None),
    ],
)
def test_part_markers_old_and_new_are_read_alike(footer: str, part: int | None) -> None:
    assert parse_part(footer, digest_marker(DAY)) == part


def test_footers_read_as_words_and_round_trip() -> None:
    from bot.domain.alerts import alert_marker
    from bot.domain.digest import part_footer

    assert part_footer(digest_marker(DAY), 1, 1) == "digest 2026-07-30"
    assert part_footer(alert_marker(7), 2, 3) == "alerts #7 · 2 of 3"
    for marker in (digest_marker(DAY), alert_marker(7), alert_marker(70)):
        for parts in (1, 2, 9):
            for part in range(1, parts + 1):
                assert parse_part(part_footer(marker, part, parts), marker) == part
    assert parse_part(part_footer(alert_marker(70), 1, 1), alert_marker(7)) is None
