"""How much a bot may upload in one message: the one place the project states Discord's limit.

Discord refuses a bot's message whose files together are over the server's upload limit (413,
code 40005). Without boosts that is 10 MiB (Discord lowered it from 25 MiB in 2024; discord.py's
DEFAULT_FILE_SIZE_LIMIT_BYTES says the same). A boosted server allows more, and every interaction
says how much (``attachment_size_limit``): a command sizes its file against that, and this figure
is what the emulator enforces and announces, what the help and README promise, and what the tests
give every interaction (simcord, pinned, still announces the old 25 MiB).
"""

from __future__ import annotations

import math

UPLOAD_BYTES = 10 * 1024 * 1024
FILES_PER_MESSAGE = 10


def mebibytes(size: int) -> str:
    """``10.1 MiB``: rounded up to a tenth, so a file a byte over the limit reads as over it."""
    return f"{math.ceil(size * 10 / (1024 * 1024)) / 10:.1f} MiB"
