"""docs/reliability.md lists the delivery matrix's cells: exactly the ones the tests run."""

from __future__ import annotations

import re
from pathlib import Path

from tests.delivery_cells import cells

DOC = Path(__file__).parent.parent / "docs" / "reliability.md"
ENTRY = re.compile(r"`(?P<fault>[\w]+)-\{(?P<first>\d)\.\.(?P<last>\d)\}of(?P<parts>\d)-(?P<recovery>\w+)`")


def test_the_documented_matrix_is_the_matrix_that_runs() -> None:
    table = DOC.read_text("utf-8").split("| fault | resume | restart |", 1)[1].split("\n\n", 1)[0]
    documented = [
        f"{m['fault']}-{part}of{m['parts']}-{m['recovery']}"
        for m in ENTRY.finditer(table)
        for part in range(int(m["first"]), int(m["last"]) + 1)
    ]
    assert len(documented) == len(set(documented))
    assert set(documented) == {cell.id for cell in cells()}
