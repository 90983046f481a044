"""A failed network call in a few words: the reason shown to a reader instead of a library's own
text, which names an IP and port ("Connect call failed ('162.159.128.233', 443)"), a class, or
nothing at all (a timeout's text is empty)."""

from __future__ import annotations

import errno
import os
import socket
import ssl

import aiohttp

# Raised by the network, not by a local file: only these are said as an unreachable server.
NETWORK_ERRORS = (aiohttp.ClientError, ssl.SSLError, TimeoutError, ConnectionError, socket.gaierror)
# The same, raised as a bare OSError (no aiohttp around the socket call).
_NETWORK_ERRNOS = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN})


def network_failure(exc: BaseException) -> BaseException | None:
    """The network failure ``exc`` is or was caused by (a cog that failed to load wraps the error of
    its call), or None."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, NETWORK_ERRORS) or (isinstance(seen, OSError) and seen.errno in _NETWORK_ERRNOS):
            return seen
        seen = seen.__cause__
    return None


def failure_reason(exc: BaseException) -> str:
    """Why the call failed, in words that name no address (the caller names it) and no token."""
    tls = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else exc
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        tls = exc.certificate_error
    if isinstance(tls, ssl.SSLCertVerificationError):
        return f"its TLS certificate was not accepted: {tls.verify_message or tls.reason}"
    if isinstance(tls, ssl.SSLError):
        # ssl's own text is "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)".
        return f"TLS failed: {(tls.reason or type(tls).__name__).replace('_', ' ').lower()}"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the connection closed before an answer"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"an answer it could not use, HTTP {exc.status}"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "the answer was cut off"
    if isinstance(exc, OSError):
        return connect_failure_reason(exc)
    return f"the request failed ({type(exc).__name__})"


def connect_failure_reason(exc: OSError) -> str:
    # asyncio's own wording ("Connect call failed ('127.0.0.1', 9)") hides the cause: the errno names it.
    if exc.errno is not None and exc.errno > 0:
        return os.strerror(exc.errno)
    return exc.strerror or "the connection failed"
