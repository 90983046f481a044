"""How many examples a property test tries under the loaded hypothesis profile.

A test that names its own number (fewer for one that opens a database per example, more for a cheap
parser) would keep that number under `HYPOTHESIS_PROFILE=stress` too, since an explicit setting beats
the profile's: `examples(n)` keeps the test's proportion and scales it with the profile instead."""

from __future__ import annotations

from hypothesis import settings

# Hypothesis's own default, which the everyday "paperbot" profile keeps: its scale is 1.
EVERYDAY_EXAMPLES = 100


def examples(everyday: int) -> int:
    """`everyday` under `make test`; as many times more as the loaded profile tries per test."""
    return everyday * max(1, settings.default.max_examples // EVERYDAY_EXAMPLES)
