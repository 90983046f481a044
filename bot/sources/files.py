"""Reading a papers file from disk without ever holding more of it than its format can need.

A file is read in two steps: its head, to tell the format (as `parse_file` will), then at most that
format's limit plus one byte. So `/dev/zero`, a pipe that never ends or a disk image named
papers.json is refused after a bounded read instead of filling memory.
"""

from __future__ import annotations

from pathlib import Path

from bot.errors import InvalidInput
from bot.parsing.formats import SNIFF_BYTES, sniff

MiB = 1024 * 1024
CHUNK_BYTES = 4 * MiB

# The biggest real files, each limit leaving more than ten times that room (README: file size limits):
# an HF API answer for one day is at most 0.4 MB (the 30 real days in the shared corpus), two years
# of days (10,630 papers) merged into one array about 25 MB; arXiv's daily RSS for all of cs is a few
# MB, an Atom answer of the API's 30,000-result maximum about 60 MB; a copied Daily Papers page is
# 0.1 MB, a year of them pasted into one file about 30 MB.
FORMAT_LIMITS: dict[str, int] = {
    "hf-api": 256 * MiB,
    "arxiv-rss": 128 * MiB,
    "arxiv-atom": 128 * MiB,
    "hf-page": 64 * MiB,
}
FORMAT_NAMES = {
    "hf-api": "HF API JSON",
    "arxiv-rss": "arXiv RSS",
    "arxiv-atom": "arXiv Atom",
    "hf-page": "Daily Papers page text",
}


class FileTooLarge(InvalidInput):
    """A papers file over its format's size limit; nothing of it was parsed or stored."""


def read_papers_file(path: Path) -> bytes:
    """The bytes of ``path``; FileTooLarge past its format's limit, OSError as open() raises it."""
    with path.open("rb") as stream:
        chunks = [stream.read(SNIFF_BYTES)]
        kind = sniff(chunks[0])
        limit = FORMAT_LIMITS[kind]
        size = len(chunks[0])
        # In chunks: one read(limit) would reserve the whole limit even for a small file.
        while size <= limit and (chunk := stream.read(min(CHUNK_BYTES, limit + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
    if size > limit:
        raise FileTooLarge(
            f"{path} is over {limit // MiB} MiB, the size limit for {FORMAT_NAMES[kind]} files "
            "(README: file size limits); nothing ingested"
        )
    return b"".join(chunks)
