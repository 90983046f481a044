"""migrate-store's progress covers the whole run, not only the read: after the tables' read bars,
one bar for the writes and one for the checks after them, each moving on table by table. The bar
stopped at the end of the read while the writes and checks (minutes for a million papers) ran, so
the copy looked hung."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot import cli
from bot.storage.transfer import CHECKING, WRITING
from tests.migrate_store_fixtures import postgres_server, postgres_url, run, sqlite_store

__all__ = ["postgres_server", "postgres_url", "sqlite_store"]


class RecordedBar:
    """The CLI's progress bar, recording each task's updates (rich's own bar draws nothing here:
    the test's stderr is not a terminal)."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}
        self.seen: list[tuple[str, int, int]] = []

    def __enter__(self) -> RecordedBar:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def add_task(self, description: str, total: int) -> int:
        self.names[len(self.names)] = description
        self.seen.append((description, 0, total))
        return len(self.names) - 1

    def update(self, task: int, completed: int) -> None:
        name = self.names[task]
        total = next(t for n, _, t in self.seen if n == name)
        self.seen.append((name, completed, total))


def test_the_writes_and_the_checks_after_the_read_have_their_own_progress(
    sqlite_store: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bar = RecordedBar()

    def recorded(**_: Any) -> RecordedBar:
        return bar

    monkeypatch.setattr(cli, "_progress_bar", recorded)
    code, output = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 0, output

    names = list(dict.fromkeys(name for name, _, _ in bar.seen))
    tables = [name for name in names if name not in (WRITING, CHECKING)]
    assert "papers" in tables and names[-2:] == [WRITING, CHECKING]  # after every table's read
    for phase in (WRITING, CHECKING):
        steps = [(done, total) for name, done, total in bar.seen if name == phase]
        totals = {total for _, total in steps}
        assert len(totals) == 1 and steps[0][0] == 0 and steps[-1][0] == totals.pop()
        done = [d for d, _ in steps]
        assert done == sorted(done) and len(set(done)) > len(tables)  # it moves, table by table
    # The writes were done before the checks began: the checks' bar starts once the writes' is full.
    first_check = next(i for i, (name, _, _) in enumerate(bar.seen) if name == CHECKING)
    last_write = max(i for i, (name, _, _) in enumerate(bar.seen) if name == WRITING)
    assert last_write < first_check
