"""Discord's checks on a URL field (embed links and images, link buttons)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bot.sandbox.model import Problems

URL_CHARS = 2048
WEB = ("http", "https")
WEB_OR_UPLOAD = ("http", "https", "attachment")  # an embed image may name one of the message's files
BUTTON = ("http", "https", "discord")


def url_problems(url: Any, where: str, schemes: tuple[str, ...], limit: int = URL_CHARS) -> Problems:
    """Discord's checks on a URL field: a string of at most ``limit`` characters, one of
    ``schemes``, and well formed (a host for web addresses; no spaces or control characters)."""
    if not isinstance(url, str) or not url:
        return [(where, "This field is required")] if url is None else [(where, "Not a well formed URL.")]
    if len(url) > limit:
        return [(where, f"Must be {limit} or fewer in length.")]
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # an unclosed [IPv6] bracket or a port that is no number
        return [(where, "Not a well formed URL.")]
    scheme = parts.scheme.lower()
    if scheme and scheme not in schemes:
        return [(where, f'Scheme "{scheme}" is not supported. Scheme must be one of {schemes}.')]
    blank = any(char.isspace() or not char.isprintable() for char in url)
    if scheme in ("http", "https"):
        well_formed = bool(parts.hostname) and port_ok and not blank
    else:  # attachment://name, discord://...
        well_formed = bool(scheme) and bool(parts.netloc or parts.path) and not blank
    return [] if well_formed else [(where, "Not a well formed URL.")]
