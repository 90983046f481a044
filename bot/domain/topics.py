"""Topic digests: a digest that carries only the papers matching a follow-style query.

A topic is written in the same grammar as ``/follow add`` (bot.domain.follows) and validated the
same way; it is stored and shown in its canonical form, which reads back as the same query.
"""

from __future__ import annotations

from bot.domain.follows import FollowMatcher, paper_words, parse_key, parse_keyword
from bot.domain.layout import escape
from bot.domain.lookalikes import refuse_lookalikes
from bot.domain.models import Paper
from bot.errors import InvalidInput


def parse_topic(text: str) -> str:
    """The canonical form of a digest topic, or InvalidInput saying what is wrong (as /follow add)."""
    try:
        topic = parse_keyword(text)
        # As /follow add refuses it: a topic typed with look-alikes would never match a paper, and
        # the digest would post "No papers on this topic" every day.
        refuse_lookalikes(topic.text)
        return topic.key
    except InvalidInput as exc:
        raise InvalidInput(f"topic: {exc}") from None


class TopicFilter:
    """Whether a paper belongs in a topic digest (its title, abstract and keywords match)."""

    def __init__(self, topic: str) -> None:
        """``topic`` as ``parse_topic`` gave it (its canonical form)."""
        self._matcher = FollowMatcher([(0, parse_key(topic))])

    def __call__(self, paper: Paper) -> bool:
        return bool(self._matcher.match(paper_words(paper.title, paper.abstract, paper.ai_keywords)))


def topic_line(topic: str) -> str:
    """How a post's header names its topic (escaped: a topic is the admin's text)."""
    return f"Topic: {escape(topic)}"
