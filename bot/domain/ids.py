"""arXiv identifiers and the canonical paper id."""

from __future__ import annotations

import hashlib
import re

from bot.domain.text import title_key

# New style (0704.0001 onwards, 5 digits since 2015) and old style (hep-th/9901001, math.GT/0309136).
_NEW_STYLE = r"\d{4}\.\d{4,5}"
_OLD_STYLE = r"[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}"
ARXIV_ID = re.compile(rf"(?P<id>{_NEW_STYLE}|{_OLD_STYLE})(?:v(?P<version>\d+))?")
_ARXIV_URL = re.compile(
    rf"arxiv\.org/(?:abs|pdf|html)/(?P<id>{_NEW_STYLE}|{_OLD_STYLE})(?:v\d+)?", re.IGNORECASE
)
_VERSIONED = re.compile(rf"(?:^|/)(?:{_NEW_STYLE}|{_OLD_STYLE})v(?P<version>\d{{1,4}})$")
_HF_PAPER_URL = re.compile(rf"huggingface\.co/papers/(?P<id>{_NEW_STYLE})", re.IGNORECASE)

TITLE_ID_PREFIX = "t-"
# An arXiv archive (cs, hep-th, cond-mat) and optionally its subject class (cs.LG, cond-mat.stat-mech,
# physics.atom-ph): what the RSS feed's address takes, joined by "+".
_ARXIV_CATEGORY = re.compile(r"[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z]+(?:-[a-z]+)?)?")
_EXAMPLES = "cs.LG, hep-th or cond-mat.stat-mech"


def parse_arxiv_id(text: str) -> str | None:
    """The versionless arXiv id in ``text`` (a bare id, ``arXiv:`` form or an arXiv/HF URL), else None."""
    text = text.strip()
    for pattern in (_ARXIV_URL, _HF_PAPER_URL):
        found = pattern.search(text)
        if found:
            return found.group("id")
    if text.lower().startswith("arxiv:"):
        text = text[len("arxiv:") :]
    match = ARXIV_ID.fullmatch(text)
    return match.group("id") if match else None


def arxiv_category_problem(categories: list[str]) -> str | None:
    """Why these arXiv categories name no feed (none at all, or one that is no category), else None."""
    if not categories:
        return f"list at least one arXiv category, such as {_EXAMPLES}"
    for category in categories:
        if _ARXIV_CATEGORY.fullmatch(category) is None:
            return f"{category!r} is not an arXiv category such as {_EXAMPLES}"
    return None


def parse_arxiv_version(text: str) -> int | None:
    """The version of an arXiv id or link that names one (``2405.18443v3`` -> 3), else None."""
    text = text.strip().removeprefix("oai:arXiv.org:").removeprefix("arXiv:")
    found = _VERSIONED.search(text)
    return int(found.group("version")) if found else None


def title_id(title: str) -> str:
    """A stable id for a paper known only by its title."""
    return title_id_from_key(title_key(title))


def is_title_id(paper_id: str) -> bool:
    """Whether ``paper_id`` was made from a title (a paper without an arXiv id), not an arXiv id."""
    return paper_id.startswith(TITLE_ID_PREFIX)


def title_id_from_key(key: str) -> str:
    digest = hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()
    return TITLE_ID_PREFIX + digest[:16]


def canonical_id(arxiv_id: str | None, title: str) -> str:
    """The arXiv id without version where known, else an id derived from the normalised title."""
    return arxiv_id if arxiv_id else title_id(title)


def arxiv_abs_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def arxiv_pdf_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/pdf/{arxiv_id}"


def hf_paper_url(arxiv_id: str) -> str:
    return f"https://huggingface.co/papers/{arxiv_id}"
