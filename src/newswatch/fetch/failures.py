"""Why a fetch failed, in short words that never contain a full URL (URLs can carry
secrets, and httpx's messages embed them)."""

from __future__ import annotations

import socket
import ssl
import zlib
from collections.abc import Iterator

import httpx

from newswatch.redact import redact_text

__all__ = ["MAX_HEADER_BYTES", "Refused", "describe"]

# Response headers (names and values) larger than this fail the fetch. httpcore's HTTP/1.1
# parser itself refuses a head over 100 KiB ("Receive buffer too long") before we see it.
MAX_HEADER_BYTES = 64 * 1024


class Refused(Exception):
    """A cap or a safety rule stopped a fetch; the message is short and safe to show."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


def describe(exc: BaseException) -> str:
    """A short, URL-free description of a failed fetch (httpx messages embed the full URL)."""
    if isinstance(exc, Refused):
        return str(exc)
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return "timed out"
    known = _known_cause(exc)
    if known is not None:
        return known
    if isinstance(exc, httpx.ConnectError):
        prefix = "connection failed"
    elif isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL | UnicodeError):
        prefix = "invalid URL"
    elif isinstance(exc, httpx.RemoteProtocolError):
        prefix = "invalid HTTP response"
    elif isinstance(exc, httpx.HTTPError):
        prefix = "network error"
    elif isinstance(exc, zlib.error):
        prefix = "invalid compressed body"
    elif isinstance(exc, OSError):
        prefix = "network error"
    else:
        prefix = f"unexpected error ({type(exc).__name__})"
    detail = redact_text(str(exc)).strip()[:200]
    return f"{prefix}: {detail}" if detail else prefix


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it was raised from (httpx wraps httpcore wraps OSError,
    sometimes inside an exception group), each once."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(c for c in (current.__cause__, current.__context__) if c is not None)
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)


def _known_cause(exc: BaseException) -> str | None:
    """A clear description of the usual network failures: DNS, TLS, refused, reset,
    oversized headers; None for anything else."""
    for cause in _causes(exc):
        if isinstance(cause, socket.gaierror):
            return f"DNS lookup failed: {cause.strerror or 'name not found'}"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate rejected: {cause.verify_message or cause.reason}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake failed: {cause.reason or type(cause).__name__}"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset by the server"
        if isinstance(cause, httpx.RemoteProtocolError) and "Receive buffer too long" in str(cause):
            return f"response headers larger than {MAX_HEADER_BYTES // 1024} KB"
    return None
