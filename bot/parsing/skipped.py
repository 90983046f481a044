"""Entries of a feed that are not papers a real feed could send, and what becomes of them.

A real arXiv or Hugging Face entry always names its paper (an arXiv id) and dates it in the
format its feed promises; one that does not was mangled on the way, and storing it made up an id
and lost its dates. Such an entry is left out and named; the rest of the feed is stored: a live
fetch passes a list to collect them in (logged, and printed by `paperbot ingest`), while a caller
that passes none refuses the whole input at the first one, as a ParseError naming it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import ParseError

SHOWN_CHARS = 60  # of a bad value quoted in a reason: enough to recognise it, never a whole abstract


@dataclass(frozen=True, slots=True)
class SkippedEntry:
    source: str  # the feed's address or the file's name
    entry: str  # "entry http://arxiv.org/abs/garbage", "item 2 (2607.00002)": see feed_entry_name
    reason: str
    line: int | None = None  # of the offending field, where the format keeps positions (JSON)
    # Stored all the same, with a field cut to its limit (bot.parsing.limits): "trimmed", not "skipped".
    trimmed: bool = False

    @property
    def where(self) -> str:
        return f"{self.source}, line {self.line}" if self.line is not None else self.source

    @property
    def done(self) -> str:
        return "trimmed" if self.trimmed else "skipped"

    def __str__(self) -> str:
        return f"{self.where}: {self.entry} {self.done}: {self.reason}"


def quoted(value: str) -> str:
    shown = value if len(value) <= SHOWN_CHARS else value[: SHOWN_CHARS - 1] + "…"
    return repr(shown)


def entry_name(kind: str, position: int, identifier: str) -> str:
    """A JSON record's name: its position (the line is given beside it) and its id if it has one."""
    return f"{kind} {position}" + (f" ({shown(identifier)})" if identifier else "")


def feed_entry_name(
    kind: str, position: int, *, identifier: str = "", link: str = "", title: str = ""
) -> str:
    """An RSS item's or Atom entry's name, by what it has: its id, else its link, else its title
    (each cut to a recognisable length, control and invisible characters escaped). A feed changes
    from one fetch to the next and XML gives no line, so "entry 7" could not be found again; the
    position is named only when the entry has none of them."""
    if identifier:
        return f"{kind} {shown(identifier)}"
    if link:
        return f"{kind} linking to {shown(link)}"
    if title:
        return f"{kind} titled {quoted(title)}"
    return f"{kind} {position} (it has no id, link or title)"


def shown(value: str) -> str:
    """``value`` as quoted() shows it, without the quotes: ids and addresses read better bare."""
    return quoted(value)[1:-1]


def skip(
    skipped: list[SkippedEntry] | None, source: str, entry: str, reason: str, *, line: int | None = None
) -> None:
    """Collect the entry in ``skipped``; with nowhere to collect it, refuse the whole input."""
    if skipped is None:
        raise ParseError(f"{entry}: {reason}", source=source, line=line)
    skipped.append(SkippedEntry(source, entry, reason, line))
