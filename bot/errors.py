"""Errors a user (member, admin or CLI user) can cause and should be told about plainly.

Plain exceptions, free of Discord: cogs and the CLI turn them into friendly messages.
"""

from __future__ import annotations


class PaperbotError(Exception):
    """Base for every error whose message is fit to show a user as it is."""


class ParseError(PaperbotError):
    """A source file or response that is not what its format promises."""

    def __init__(self, message: str, *, source: str = "<input>", line: int | None = None) -> None:
        self.source = source
        self.line = line
        self.reason = message
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {message}")


class PaperNotFound(PaperbotError):
    def __init__(self, reference: str) -> None:
        from bot.domain.text import clean_line  # here: errors is imported by everything, text by few

        self.reference = reference
        # Shown as the member typed it, cleaned: repr() showed invisible characters as '\u200b'.
        shown = clean_line(reference)
        super().__init__(f"No paper matches '{shown}'." if shown else "No paper matches an empty reference.")


class InvalidInput(PaperbotError):
    """An option value that cannot be used (bad date, too long, out of range)."""


class NoListing(PaperbotError):
    """No daily list is stored for the asked date."""


class StorageUnavailable(PaperbotError):
    """The database refused a write (busy with another writer, or the disk is full); nothing was written."""


class DiskFull(StorageUnavailable):
    """The disk holding the store has no room for a write: every write fails until space is freed
    (a busy store clears by itself; this needs the operator), so health reports it too."""

    def __init__(self) -> None:
        super().__init__("The disk holding the database is full: nothing was saved. Free some space.")


class StoreMisconfigured(PaperbotError):
    """The store's PostgreSQL URL is wrong (the driver or the server refuses a part of it): nothing
    was tried; unlike StorageUnavailable, trying again will not help until the URL is fixed."""


class PartlyStored(PaperbotError):
    """An ingest committed in batches failed part-way: the batches before the failure are stored."""

    def __init__(self, cause: BaseException, *, stored: int, total: int) -> None:
        self.cause = cause
        self.stored = stored
        super().__init__(
            f"{cause} Stored before that: {stored:,} of {total:,} papers, whole list days only; "
            "run the same ingest again to store the rest (stored papers come out unchanged, "
            "and no follow alert is sent twice)."
        )
