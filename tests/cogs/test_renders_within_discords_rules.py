"""Whatever the papers hold, what the bot renders passes the emulator's rules, which are
Discord's: the /papers show card, "More like ...", the daily list, and every part of a digest and
of an alert DM with its save menu. Hostile text (markdown, mentions, invisible and direction
characters, blank authors and keywords) never makes Discord refuse a message."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.alerts import AlertItem, plan_alert
from bot.domain.digest import plan_digest
from bot.domain.models import Paper, Source
from bot.sandbox.message_rules import is_empty, message_problems
from bot.services.papers import DailyList
from bot.services.similar import SimilarPaper
from cogs import _render
from cogs._views import save_menu
from tests.property_budget import examples

PIECES = [*"*_~`|[]<>#-\\@ \n\t\u200b\u202eé.1", "@everyone", "<t:1:R>", "2. ", "word "]
# Blanks Discord trims that are not ASCII, joiners and marks, a NUL, and a word too long to wrap.
PIECES += [*"\u3000\u00a0\u2028\x85\r\u200d\u2060\u0301\x00", "👩\u200d💻", "x" * 120]
text = st.lists(st.sampled_from(PIECES), max_size=300).map("".join)
texts = st.lists(text, max_size=30).map(tuple)
papers = st.lists(st.tuples(text, text, texts, texts), max_size=30).map(
    lambda rows: [
        Paper(
            title=title or "x",
            abstract=abstract,
            source=Source.HF_API,
            arxiv_id=f"2601.{n:05d}",
            authors=authors,
            ai_keywords=keywords,
            published=date(2026, 1, 2),
            upvotes=n,
        )
        for n, (title, abstract, authors, keywords) in enumerate(rows, 1)
    ]
)
quick = settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _refusal(body: dict[str, object]) -> object:
    return message_problems(body) or ("empty" if is_empty(body) else None)


@quick
@given(papers.filter(bool))
def test_cards_and_lists_pass_discords_rules(chosen: list[Paper]) -> None:
    first = chosen[0]
    embeds = [
        _render.paper_embed(first),
        _render.similar_page(first, [SimilarPaper(p, 1.0, p.ai_keywords[:3]) for p in chosen[1:6]]),
        _render.daily_page(
            DailyList(date(2026, 1, 2), chosen), chosen[:10], first_rank=1, page=1, page_count=1
        ),
    ]
    for embed in embeds:
        assert _refusal({"embeds": [embed.to_dict()]}) is None


@quick
@given(papers)
def test_every_digest_and_alert_part_passes_discords_rules(chosen: list[Paper]) -> None:
    digest = plan_digest(date(2026, 1, 2), None, chosen, source="hf", max_papers=50).messages
    alerts = plan_alert(7, [AlertItem(str(n), p, ["kw*_"]) for n, p in enumerate(chosen)]) if chosen else ()
    for message in (*digest, *alerts):
        view = save_menu(message.saves, votes=True)
        body = {
            "embeds": [embed.to_dict() for embed in _render.message_embeds(message)],
            "components": view.to_components() if view is not None else [],
        }
        assert _refusal(body) is None
