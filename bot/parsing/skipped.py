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
    entry: str  # "entry 2 (http://arxiv.org/abs/garbage)": its position, and its id when it has one
    reason: str
    line: int | None = None  # of the offending field, where the format keeps positions (JSON)

    @property
    def where(self) -> str:
        return f"{self.source}, line {self.line}" if self.line is not None else self.source

    def __str__(self) -> str:
        return f"{self.where}: {self.entry} skipped: {self.reason}"


def quoted(value: str) -> str:
    shown = value if len(value) <= SHOWN_CHARS else value[: SHOWN_CHARS - 1] + "…"
    return repr(shown)


def entry_name(kind: str, position: int, identifier: str) -> str:
    return f"{kind} {position}" + (f" ({quoted(identifier)[1:-1]})" if identifier else "")


def skip(
    skipped: list[SkippedEntry] | None, source: str, entry: str, reason: str, *, line: int | None = None
) -> None:
    """Collect the entry in ``skipped``; with nowhere to collect it, refuse the whole input."""
    if skipped is None:
        raise ParseError(f"{entry}: {reason}", source=source, line=line)
    skipped.append(SkippedEntry(source, entry, reason, line))
