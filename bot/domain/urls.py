"""Web links as Discord accepts them (embed URLs, thumbnails, link buttons).

Discord refuses a whole message when one of its URLs is malformed, so a bad link in one field of
one paper would make that paper impossible to show. Every link a Paper holds passes through
``web_url`` first: a link is kept only when Discord would take it, with non-ASCII characters
percent-encoded; anything else (spaces, other schemes, no host, over 512 characters) is dropped.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

MAX_URL = 512  # Discord's limit for link buttons, the tightest of its URL limits
# Printable ASCII that may appear in a URL unencoded (RFC 3986 reserved + unreserved + '%').
_ALLOWED = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_HOST = re.compile(
    r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
_SAFE = "-._~:/?#[]@!$&'()*+,;=%"


def web_url(text: str | None) -> str | None:
    """``text`` as an http(s) URL Discord accepts, or None."""
    if not text:
        return None
    candidate = text.strip()
    if not candidate.isascii():
        if any(ch.isspace() or not ch.isprintable() for ch in candidate):
            return None
        candidate = quote(candidate, safe=_SAFE)  # an IRI (non-ASCII path) made a URI
    if len(candidate) > MAX_URL or not _ALLOWED.fullmatch(candidate):
        return None
    try:
        parts = urlsplit(candidate)
        port = parts.port  # raises on a malformed port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme.lower() not in ("http", "https") or not _HOST.fullmatch(host) or port == 0:
        return None
    return candidate


def shown_url(url: str) -> str:
    """``url`` fit for a log line or a message an admin sees: scheme, host, port and path only (a
    mirror's ``user:password@`` or ``?token=`` would be a secret written out)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return url
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path or '/'}"
