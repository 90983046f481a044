"""A skipped RSS item or Atom entry is named by what it has, so a self-hoster can find it in a feed
that has changed since: its id, else its link, else its title, cut and with control and invisible
characters escaped; its position ("entry 7") only when it has none of them. Any text, any entry:
the name is made without raising and prints as one line."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.text import clean_line
from bot.parsing.arxiv import parse_arxiv_atom, parse_arxiv_rss
from bot.parsing.skipped import SHOWN_CHARS, SkippedEntry, quoted, shown

# What XML 1.0 can carry, hostile text included: quotes, bidi overrides, zero-width, long runs.
XML_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=["Cs", "Cc", "Cn"]),
        st.sampled_from(["\u202e", "\u200b", "'", '"', " ", "\t", "\n"]),
    ),
    max_size=90,
)
MAYBE = st.one_of(st.none(), XML_TEXT)
# The longest a name can get: a prefix and one value of SHOWN_CHARS characters, each escaped.
LONGEST_NAME = len("entry linking to ") + SHOWN_CHARS * len("\\U0010ffff") + 2


def expected_name(
    kind: str, position: int, identifier: str | None, link: str | None, title: str | None
) -> str:
    identifier, link, title = (clean_line(v or "") for v in (identifier, link, title))
    if identifier:
        return f"{kind} {shown(identifier)}"
    if link:
        return f"{kind} linking to {shown(link)}"
    if title:
        return f"{kind} titled {quoted(title)}"
    return f"{kind} {position} (it has no id, link or title)"


def assert_one_printable_line(entry: SkippedEntry) -> None:
    message = str(entry)
    assert message.isprintable() and len(entry.entry) <= LONGEST_NAME


def atom_entry(identifier: str | None, link: str | None, title: str | None) -> str:
    parts = ["<published>notadate</published>"]
    if identifier is not None:
        parts.append(f"<id>{escape(identifier)}</id>")
    if link is not None:
        parts.append(f'<link rel="alternate" href={quoteattr(link)}/>')
    if title is not None:
        parts.append(f"<title>{escape(title)}</title>")
    return "<entry>" + "".join(parts) + "</entry>"


ENTRIES = st.lists(
    st.tuples(MAYBE, MAYBE, MAYBE.filter(lambda t: t is None or clean_line(t) != "Error")),
    min_size=1,
    max_size=5,
)


@given(ENTRIES)
def test_every_malformed_atom_entry_is_named_by_what_it_has(entries: list[tuple[str | None, ...]]) -> None:
    body = "".join(atom_entry(*entry) for entry in entries)
    feed = f'<feed xmlns="http://www.w3.org/2005/Atom"><title>q</title>{body}</feed>'.encode()
    skipped: list[SkippedEntry] = []
    assert parse_arxiv_atom(feed, source="q.atom", skipped=skipped) == []
    assert [s.entry for s in skipped] == [
        expected_name("entry", n, *entry) for n, entry in enumerate(entries, 1)
    ]
    for entry in skipped:
        assert_one_printable_line(entry)


def rss_item(guid: str | None, link: str | None, title: str | None) -> str:
    parts = ["<pubDate>notadate</pubDate>"]
    for tag, value in (("guid", guid), ("link", link), ("title", title)):
        if value is not None:
            parts.append(f"<{tag}>{escape(value)}</{tag}>")
    return "<item>" + "".join(parts) + "</item>"


@given(ENTRIES)
def test_every_malformed_rss_item_is_named_by_what_it_has(items: list[tuple[str | None, ...]]) -> None:
    body = "".join(rss_item(*item) for item in items)
    feed = (
        "<rss version='2.0'><channel><title>t</title><pubDate>Thu, 30 May 2024 00:00:00 -0400</pubDate>"
        f"{body}</channel></rss>"
    ).encode()
    skipped: list[SkippedEntry] = []
    assert parse_arxiv_rss(feed, source="t.rss", skipped=skipped) == []
    assert [s.entry for s in skipped] == [expected_name("item", n, *item) for n, item in enumerate(items, 1)]
    for entry in skipped:
        assert_one_printable_line(entry)


def test_a_long_title_is_cut_and_cleaned_of_a_hidden_character() -> None:
    feed = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>Attention \u202eIs All You Need, '
        + "and a great deal more, " * 5
        + "</title><published>2024-05-28T17:59:59Z</published></entry></feed>"
    ).encode()
    skipped: list[SkippedEntry] = []
    parse_arxiv_atom(feed, source="q.atom", skipped=skipped)
    [entry] = skipped
    assert entry.entry.startswith("entry titled 'Attention Is All You Need, and a great deal more")
    assert entry.entry.endswith("…'") and entry.reason == "no id"
