"""Paper titles show as typed wherever the bot renders them: /papers show, "More like ...", the
daily list, keyword-alert DMs, the server digest, library lists, picks. A title written in markdown
never renders as bold, strike-through, underline or code, and stays within Discord's limits once
escaped."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.alerts import alert_entry
from bot.domain.digest import entry
from bot.domain.models import Paper, Source
from bot.domain.picks import picks_text
from bot.services.papers import DailyList
from bot.services.similar import SimilarPaper
from cogs import _render
from tests.domain.test_escape import _as_shown, _unescaped_markup, text_with_markup

MARKDOWN_TITLE = "**bold** ~~x~~ __u__ `x`"


def _paper(title: str, n: int = 1) -> Paper:
    return Paper(
        title=title,
        abstract="An abstract.",
        source=Source.HF_API,
        arxiv_id=f"2601.{n:05d}",
        authors=("Ada Lovelace",),
        published=date(2026, 1, 2),
    )


def _shows_title_as_typed(rendered: str, title: str = MARKDOWN_TITLE) -> bool:
    return _unescaped_markup(rendered) == [] and title in _as_shown(rendered)


def test_papers_show_card_title_shows_markdown_as_typed() -> None:
    title = _render.paper_embed(_paper(MARKDOWN_TITLE)).title
    assert title is not None and _shows_title_as_typed(title)


def test_more_like_title_shows_markdown_as_typed() -> None:
    source = _paper(MARKDOWN_TITLE)
    embed = _render.similar_page(source, [SimilarPaper(_paper("Other", 2), 1.0, ("x",))])
    assert embed.title is not None and _shows_title_as_typed(embed.title)
    assert _as_shown(embed.title) == f"More like “{MARKDOWN_TITLE}”"


def test_daily_list_dm_digest_and_picks_show_markdown_titles_as_typed() -> None:
    paper = _paper(MARKDOWN_TITLE)
    daily = DailyList(day=date(2026, 1, 2), papers=[paper])
    page = _render.daily_page(daily, [paper], first_rank=1, page=1, page_count=1).description
    assert page is not None
    heading = page.split("\n")[0]
    assert MARKDOWN_TITLE in _as_shown(heading) and "\\*\\*bold\\*\\*" in heading
    for rendered in (alert_entry(paper, ["bold"]), entry(1, paper), picks_text([(paper, MARKDOWN_TITLE)])):
        assert "\\*\\*bold\\*\\* \\~\\~x\\~\\~ \\_\\_u\\_\\_ \\`x\\`" in rendered


@given(text_with_markup | st.text(alphabet="*_~`|[]<>#-\\@ abc", min_size=200, max_size=400))
def test_any_title_on_a_card_stays_within_discords_title_limit_and_shows_as_typed(title: str) -> None:
    embed = _render.paper_embed(_paper(title or "x"))
    assert embed.title is not None and len(embed.title) <= _render.EMBED_TITLE
    assert _unescaped_markup(embed.title) == []
    more_like = _render.similar_page(_paper(title or "x"), []).title
    assert more_like is not None and len(more_like) <= _render.EMBED_TITLE
    assert _unescaped_markup(more_like) == []
