"""Tests for newswatch.fetch.policy: the status policy, Retry-After and max-age."""

from __future__ import annotations

import zlib

import httpx
import pytest

from newswatch.fetch import (
    Decision,
    Redirect,
    classify,
    parse_max_age,
    parse_retry_after,
)
from newswatch.models import FetchStatus
from support.fetching import NOW

# --- the status policy ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (200, Decision(FetchStatus.OK)),
        (304, Decision(FetchStatus.NOT_MODIFIED)),
        (301, Decision(FetchStatus.FAILED, "HTTP 301 without a Location", Redirect.PERMANENT)),
        (308, Decision(FetchStatus.FAILED, "HTTP 308 without a Location", Redirect.PERMANENT)),
        (302, Decision(FetchStatus.FAILED, "HTTP 302 without a Location", Redirect.TEMPORARY)),
        (303, Decision(FetchStatus.FAILED, "HTTP 303 without a Location", Redirect.TEMPORARY)),
        (307, Decision(FetchStatus.FAILED, "HTTP 307 without a Location", Redirect.TEMPORARY)),
        (204, Decision(FetchStatus.FAILED, "empty body")),
        (410, Decision(FetchStatus.GONE, "HTTP 410 (gone)")),
        (429, Decision(FetchStatus.RETRY_LATER, "HTTP 429")),
        (503, Decision(FetchStatus.RETRY_LATER, "HTTP 503")),
        (404, Decision(FetchStatus.FAILED, "HTTP 404")),
        (500, Decision(FetchStatus.FAILED, "HTTP 500")),
        (300, Decision(FetchStatus.FAILED, "HTTP 300")),
    ],
)
def test_classify_status_codes(code: int, expected: Decision) -> None:
    """Each HTTP status maps to the documented outcome."""
    assert classify(code) == expected


def test_classify_empty_200_is_failure() -> None:
    """A 200 with an empty body is a failure, not an empty feed."""
    assert classify(200, empty_body=True) == Decision(FetchStatus.FAILED, "empty body")


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (TimeoutError(), "timed out"),
        (httpx.ReadTimeout("read timed out"), "timed out"),
        (httpx.ConnectError("[Errno 111] Connection refused"), "connection failed: "),
        (httpx.RemoteProtocolError("peer closed"), "invalid HTTP response: peer closed"),
        (zlib.error("bad header"), "invalid compressed body: bad header"),
    ],
)
def test_classify_exceptions(exc: BaseException, expected: str) -> None:
    """Network failures are FAILED with a short description."""
    decision = classify(exc)
    assert decision.status is FetchStatus.FAILED
    assert decision.error is not None and decision.error.startswith(expected)


def test_retry_after_seconds() -> None:
    """Retry-After in delay-seconds form is returned as seconds."""
    assert parse_retry_after("120", NOW) == 120.0


def test_retry_after_http_date() -> None:
    """Retry-After as an HTTP-date is measured from the given clock."""
    assert parse_retry_after("Tue, 24 Nov 2026 10:30:00 GMT", NOW) == 1800.0


def test_retry_after_is_capped() -> None:
    """Retry-After never exceeds the cap (6 h by default)."""
    assert parse_retry_after("999999", NOW) == 6 * 3600
    assert parse_retry_after("Sat, 01 Jan 2030 00:00:00 GMT", NOW) == 6 * 3600


def test_retry_after_in_the_past_is_zero() -> None:
    """A Retry-After date already passed means retry now."""
    assert parse_retry_after("Mon, 23 Nov 2026 10:00:00 GMT", NOW) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "Tue, 99 Foo 2026"])
def test_retry_after_unreadable_is_none(value: str | None) -> None:
    """An absent or unreadable Retry-After gives None."""
    assert parse_retry_after(value, NOW) is None


def test_retry_after_fractional_seconds_are_honoured() -> None:
    """A fractional delay is read as given, as destinations' Retry-After is."""
    assert parse_retry_after("1.5", NOW) == 1.5


@pytest.mark.parametrize(
    ("value", "expected"),
    [("max-age=300", 300.0), ("public, max-age=60, must-revalidate", 60.0), ("no-cache", None)],
)
def test_parse_max_age(value: str, expected: float | None) -> None:
    """Cache-Control max-age is read in seconds."""
    assert parse_max_age(value) == expected
