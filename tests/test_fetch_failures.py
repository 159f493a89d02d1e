"""Tests for newswatch.fetch.failures: failures named in short words, never a URL."""

from __future__ import annotations

import socket
import ssl

import httpx
import pytest
from pytest_httpx import HTTPXMock

from newswatch.fetch import (
    classify,
)
from newswatch.models import FetchStatus
from support.fetching import get

# --- errors never leak URLs -----------------------------------------------------------------

SECRET_URL = "https://hooks.example.org/services/T000/B000/s3cr3tT0k3n?token=hunter2"


def test_connect_error_text_has_no_secret(httpx_mock: HTTPXMock) -> None:
    """httpx error messages are redacted: the URL's path and query never appear."""
    httpx_mock.add_exception(httpx.ConnectError(f"cannot connect to {SECRET_URL}"))
    result = get(SECRET_URL)
    assert result.status is FetchStatus.FAILED
    assert result.error is not None and result.error.startswith("connection failed")
    assert "s3cr3tT0k3n" not in result.error
    assert "hunter2" not in result.error


def test_failed_status_text_has_no_secret(httpx_mock: HTTPXMock) -> None:
    """Redirect and status errors name no URL at all."""
    httpx_mock.add_response(url=SECRET_URL, status_code=302, headers={"Location": SECRET_URL})
    result = get(SECRET_URL)
    assert result.error == "redirect loop"


def chained(outer: Exception, inner: BaseException) -> Exception:
    """``outer`` raised from ``inner``, as httpx wraps httpcore and OSError."""
    outer.__cause__ = inner
    return outer


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            chained(httpx.ConnectError("x"), socket.gaierror(-2, "Name or service not known")),
            "DNS lookup failed: Name or service not known",
        ),
        (
            chained(httpx.ConnectError("x"), ExceptionGroup("g", [ConnectionRefusedError(111)])),
            "connection refused",
        ),
        (
            chained(httpx.ReadError("x"), ConnectionResetError(104)),
            "connection reset by the server",
        ),
        (
            httpx.RemoteProtocolError("Receive buffer too long"),
            "response headers larger than 64 KB",
        ),
    ],
)
def test_network_failures_are_named(exc: Exception, expected: str) -> None:
    """DNS, refused and reset connections, oversized heads each get a plain description."""
    assert classify(exc).error == expected


def test_tls_certificate_error_is_named() -> None:
    """A certificate that does not verify is reported as such, with the reason."""
    cert_error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cert_error.verify_message = "self-signed certificate"
    error = classify(chained(httpx.ConnectError("x"), cert_error)).error
    assert error == "TLS certificate rejected: self-signed certificate"


def test_invalid_url_does_not_raise() -> None:
    """A URL httpx cannot use gives FAILED, not an exception."""
    result = get("ftp://example.org/feed")
    assert result.status is FetchStatus.FAILED
    assert result.error is not None and result.error.startswith("invalid URL")
