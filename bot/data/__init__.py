"""Data shipped inside the package: a Daily Papers page, so a fresh install has papers to search."""

from __future__ import annotations

from importlib import resources

BUNDLED_SAMPLE = "daily-papers-page.txt"


def bundled_sample() -> tuple[str, bytes]:
    """(a display name, the bytes) of the bundled Daily Papers page capture."""
    return f"<bundled {BUNDLED_SAMPLE}>", (resources.files(__name__) / BUNDLED_SAMPLE).read_bytes()
