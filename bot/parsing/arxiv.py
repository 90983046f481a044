"""arXiv feeds: the RSS announcements (rss.arxiv.org) and the Atom query API (export.arxiv.org/api).

XML is parsed with defusedxml: feeds are input from the network, and entity expansion attacks
should cost nothing.

What an entry must have, from the feeds as arXiv sends them (tests/fixtures): every RSS item and
Atom entry names its paper (an arXiv id: the RSS item's link or guid, the Atom entry's id) and has
a title; an Atom entry always has its ``published`` time, an RSS item's ``pubDate`` may be missing
(the channel's date stands in). A date that is there but not a date, an id that is not an arXiv
id, or no title, and the entry is skipped (bot.parsing.skipped), not stored with a made-up id.
Authors and abstract may be empty: arXiv has papers with neither that are still papers.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from bot.domain.ids import parse_arxiv_id, parse_arxiv_version
from bot.domain.models import ListedPaper, Paper, Source
from bot.domain.text import clean_line, clean_lines
from bot.errors import ParseError
from bot.parsing._text import split_links
from bot.parsing.limits import trimmed
from bot.parsing.skipped import SkippedEntry, feed_entry_name, quoted, skip

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")
_ABSTRACT = re.compile(r"Abstract:\s*(?P<text>.*)", re.DOTALL)
_CATEGORY = re.compile(r"[a-z][a-z\-]*(?:\.[A-Za-z\-]{2,})?")


def _root(data: bytes, source: str) -> Element:
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise ParseError(f"not well-formed XML ({exc})", source=source, line=line) from None
    except DefusedXmlException as exc:
        raise ParseError(f"refused unsafe XML ({type(exc).__name__})", source=source) from None


def _text(element: Element | None) -> str:
    return clean_line("".join(element.itertext())) if element is not None else ""


def parse_arxiv_rss(
    data: bytes,
    *,
    source: str = "<arxiv rss>",
    announce_types: tuple[str, ...] = ANNOUNCE_TYPES,
    skipped: list[SkippedEntry] | None = None,
) -> list[ListedPaper]:
    """One announcement day of one or more categories, in feed order; malformed items go to
    ``skipped`` (None: they refuse the whole feed)."""
    root = _root(data, source)
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise ParseError("not an RSS feed", source=source)
    day = _rfc822_date(_text(channel.find("pubDate")) or _text(channel.find("lastBuildDate")))
    papers: list[ListedPaper] = []
    for position, item in enumerate(channel.iter("item"), 1):
        kind = _text(item.find(f"{ARXIV}announce_type")) or "new"
        if kind not in announce_types:
            continue
        stated_guid = _text(item.find("guid"))
        guid = stated_guid.removeprefix("oai:arXiv.org:")
        link = _text(item.find("link"))
        arxiv_id = parse_arxiv_id(link) or parse_arxiv_id(guid)
        title = _text(item.find("title"))
        name = feed_entry_name("item", position, identifier=stated_guid, link=link, title=title)
        if arxiv_id is None:
            skip(skipped, source, name, "no arXiv id in its link or guid")
            continue
        # The link is versionless; the guid names the version announced (a "replace": v2 or later).
        version = parse_arxiv_version(guid) or parse_arxiv_version(link)
        if not title:
            skip(skipped, source, name, "no title")
            continue
        stated = _text(item.find("pubDate"))
        listed = _rfc822_date(stated) if stated else day
        if stated and listed is None:
            skip(skipped, source, name, f"pubDate {quoted(stated)} is not a date")
            continue
        description = _text(item.find("description"))
        found = _ABSTRACT.search(description)
        abstract = clean_line(found.group("text")) if found else description
        creators = _text(item.find(f"{DC}creator"))
        authors = tuple(a.strip() for a in re.split(r",\s*|\s+and\s+", creators) if a.strip())
        code_url, project_url = split_links(abstract)
        papers.append(
            ListedPaper(
                Paper(
                    title=title,
                    abstract=abstract,
                    source=Source.ARXIV_RSS,
                    arxiv_id=arxiv_id,
                    authors=authors,
                    first_listed=listed,
                    code_url=code_url,
                    project_url=project_url,
                    arxiv_version=version,
                ),
                listed,
                len(papers) + 1,
            )
        )
        papers[-1] = trimmed(papers[-1], skipped, source, name)
    return papers


def parse_arxiv_atom(
    data: bytes, *, source: str = "<arxiv atom>", skipped: list[SkippedEntry] | None = None
) -> list[ListedPaper]:
    """Entries of an arXiv API query result. The API is a search, not a daily list: no list date.
    Malformed entries go to ``skipped`` (None: they refuse the whole feed)."""
    root = _root(data, source)
    if root.tag != f"{ATOM}feed":
        raise ParseError("not an Atom feed", source=source)
    papers: list[ListedPaper] = []
    for index, entry in enumerate(root.iter(f"{ATOM}entry"), 1):
        title = _text(entry.find(f"{ATOM}title"))
        entry_id = _text(entry.find(f"{ATOM}id"))
        if title == "Error" and parse_arxiv_id(entry_id) is None:
            # The API's answer to a query it refuses: one entry titled Error, its summary the reason.
            reason = _text(entry.find(f"{ATOM}summary")) or "no reason given"
            raise ParseError(f"the arXiv API answered an error: {reason}", source=source)
        name = feed_entry_name("entry", index, identifier=entry_id, link=_link(entry), title=title)
        arxiv_id = parse_arxiv_id(entry_id)
        if arxiv_id is None:
            skip(skipped, source, name, "its id is not an arXiv id" if entry_id else "no id")
            continue
        if not title:
            skip(skipped, source, name, "no title")
            continue
        stated = _text(entry.find(f"{ATOM}published"))
        published = _iso_date(stated)
        if published is None:
            skip(
                skipped,
                source,
                name,
                f"published {quoted(stated)} is not a date" if stated else "no published date",
            )
            continue
        abstract = _text(entry.find(f"{ATOM}summary"))
        code_url, project_url = split_links(abstract)
        papers.append(
            ListedPaper(
                Paper(
                    title=title,
                    abstract=abstract,
                    source=Source.ARXIV_ATOM,
                    arxiv_id=arxiv_id,
                    arxiv_version=parse_arxiv_version(entry_id),
                    primary_class=_category(entry.find(f"{ARXIV}primary_category")),
                    authors=clean_lines(_text(a.find(f"{ATOM}name")) for a in entry.iter(f"{ATOM}author")),
                    published=published,
                    code_url=code_url,
                    project_url=project_url,
                ),
                None,
                index,
            )
        )
        papers[-1] = trimmed(papers[-1], skipped, source, name)
    return papers


def _link(entry: Element) -> str:
    """An Atom entry's address: its alternate link (the abstract page), else its first link."""
    links = entry.findall(f"{ATOM}link")
    alternate = next((a for a in links if a.get("rel", "alternate") == "alternate"), None)
    chosen = alternate if alternate is not None else (links[0] if links else None)
    return clean_line(chosen.get("href") or "") if chosen is not None else ""


def _category(element: Element | None) -> str | None:
    """An arXiv category term (``cs.LG``, ``hep-th``, ``math.GT``); anything else is not one."""
    term = (element.get("term") or "").strip() if element is not None else ""
    return term if _CATEGORY.fullmatch(term) else None


def _rfc822_date(text: str) -> date | None:
    if not text:
        return None
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError):
        return None


def _iso_date(text: str) -> date | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date() if text else None
    except ValueError:
        return None
