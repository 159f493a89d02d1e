"""Tests for newswatch.fetch: status policy, caps, redirects, politeness, conditional GET."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import itertools
import socket
import ssl
import threading
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import pytest
from pytest_httpx import HTTPXMock

from newswatch import __version__
from newswatch.fetch import (
    DEFAULT_USER_AGENT,
    Decision,
    Fetcher,
    Redirect,
    classify,
    parse_max_age,
    parse_retry_after,
)
from newswatch.models import FetchResult, FetchStatus
from support.feedserver import FeedServer

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
PUBLIC = "http://93.184.216.34"  # an IP literal: redirect checks need no DNS
FEED = f"{PUBLIC}/feed.xml"
RSS = b"<rss version='2.0'><channel><title>t</title></channel></rss>"

T = TypeVar("T")


def run(factory: Callable[[Fetcher], Awaitable[T]], **options: Any) -> T:
    """Run ``factory(fetcher)`` on a fresh event loop with a Fetcher built from ``options``."""

    async def main() -> T:
        settings: dict[str, Any] = {"timeout": 5.0, "max_bytes": 1_000_000, "clock": lambda: NOW}
        settings.update(options)
        async with Fetcher(**settings) as fetcher:
            return await factory(fetcher)

    return asyncio.run(main())


def get(url: str = FEED, **options: Any) -> FetchResult:
    """Fetch one URL with default settings (``etag``/``last_modified`` go to fetch)."""
    conditional = {k: options.pop(k) for k in ("etag", "last_modified") if k in options}
    return run(lambda f: f.fetch(url, **conditional), **options)


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


# --- requests and conditional GET ---------------------------------------------------------


def test_user_agent_names_version() -> None:
    """The default User-Agent names newswatch, its version and its home."""
    assert (
        f"newswatch/{__version__} (+https://github.com/newswatch/newswatch)"
    ) == DEFAULT_USER_AGENT


def test_request_headers(httpx_mock: HTTPXMock) -> None:
    """A request sends User-Agent, a feed-preferring Accept and only gzip/deflate."""
    httpx_mock.add_response(url=FEED, content=RSS)
    get()
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["user-agent"] == DEFAULT_USER_AGENT
    assert request.headers["accept"].startswith("application/rss+xml")
    assert request.headers["accept-encoding"] == "gzip, deflate"
    assert "if-none-match" not in request.headers
    assert "if-modified-since" not in request.headers


def test_conditional_headers_sent(httpx_mock: HTTPXMock) -> None:
    """ETag and Last-Modified are sent back verbatim as If-None-Match/If-Modified-Since."""
    httpx_mock.add_response(url=FEED, status_code=304)
    get(etag='W/"abc"', last_modified="Tue, 24 Nov 2026 09:00:00 GMT")
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["if-none-match"] == 'W/"abc"'
    assert request.headers["if-modified-since"] == "Tue, 24 Nov 2026 09:00:00 GMT"


def test_not_modified(httpx_mock: HTTPXMock) -> None:
    """A 304 is NOT_MODIFIED with no body and keeps the validators."""
    httpx_mock.add_response(url=FEED, status_code=304)
    result = get(etag='"v1"', last_modified="Tue, 24 Nov 2026 09:00:00 GMT")
    assert result.status is FetchStatus.NOT_MODIFIED
    assert result.http_status == 304
    assert result.body == b""
    assert result.etag == '"v1"'
    assert result.last_modified == "Tue, 24 Nov 2026 09:00:00 GMT"


def test_ok_result_fields(httpx_mock: HTTPXMock) -> None:
    """A 200 carries body, validators, content type and max-age."""
    headers = {
        "ETag": '"v2"',
        "Last-Modified": "Tue, 24 Nov 2026 09:30:00 GMT",
        "Content-Type": "application/rss+xml; charset=utf-8",
        "Cache-Control": "max-age=600",
    }
    httpx_mock.add_response(url=FEED, content=RSS, headers=headers)
    result = get()
    assert result.status is FetchStatus.OK
    assert (result.http_status, result.body, result.final_url) == (200, RSS, FEED)
    assert (result.etag, result.last_modified) == ('"v2"', "Tue, 24 Nov 2026 09:30:00 GMT")
    assert result.content_type == "application/rss+xml; charset=utf-8"
    assert result.max_age == 600.0
    assert result.permanent_url is None
    assert result.error is None


def test_empty_body_fails(httpx_mock: HTTPXMock) -> None:
    """A 200 without a body is FAILED 'empty body'."""
    httpx_mock.add_response(url=FEED, content=b"")
    result = get()
    assert (result.status, result.error) == (FetchStatus.FAILED, "empty body")


def test_gone(httpx_mock: HTTPXMock) -> None:
    """A 410 is GONE."""
    httpx_mock.add_response(url=FEED, status_code=410)
    assert get().status is FetchStatus.GONE


def test_429_retry_after_seconds(httpx_mock: HTTPXMock) -> None:
    """A 429 is RETRY_LATER with Retry-After seconds."""
    httpx_mock.add_response(url=FEED, status_code=429, headers={"Retry-After": "90"})
    result = get()
    assert (result.status, result.retry_after, result.http_status) == (
        FetchStatus.RETRY_LATER,
        90.0,
        429,
    )


def test_503_retry_after_date(httpx_mock: HTTPXMock) -> None:
    """A 503 with an HTTP-date Retry-After is measured against the injected clock."""
    date = "Tue, 24 Nov 2026 11:00:00 GMT"
    httpx_mock.add_response(url=FEED, status_code=503, headers={"Retry-After": date})
    result = get()
    assert (result.status, result.retry_after) == (FetchStatus.RETRY_LATER, 3600.0)


def test_retry_after_capped_in_result(httpx_mock: HTTPXMock) -> None:
    """A huge Retry-After is capped at 6 hours."""
    httpx_mock.add_response(url=FEED, status_code=429, headers={"Retry-After": "864000"})
    assert get().retry_after == 6 * 3600


def test_server_error(httpx_mock: HTTPXMock) -> None:
    """A 500 is FAILED 'HTTP 500' and its body is not kept."""
    httpx_mock.add_response(url=FEED, status_code=500, content=b"oops")
    result = get()
    assert (result.status, result.error, result.body) == (FetchStatus.FAILED, "HTTP 500", b"")


# --- redirects ----------------------------------------------------------------------------


def redirect(httpx_mock: HTTPXMock, source: str, target: str, code: int = 301) -> None:
    """Register a redirect response."""
    httpx_mock.add_response(url=source, status_code=code, headers={"Location": target})


@pytest.mark.parametrize("code", [301, 308])
def test_permanent_redirect_sets_permanent_url(httpx_mock: HTTPXMock, code: int) -> None:
    """A 301/308 chain reports the new URL as permanent."""
    redirect(httpx_mock, FEED, f"{PUBLIC}/moved.xml", code)
    redirect(httpx_mock, f"{PUBLIC}/moved.xml", f"{PUBLIC}/final.xml", 301)
    httpx_mock.add_response(url=f"{PUBLIC}/final.xml", content=RSS)
    result = get()
    assert result.status is FetchStatus.OK
    assert result.final_url == f"{PUBLIC}/final.xml"
    assert result.permanent_url == f"{PUBLIC}/final.xml"
    assert result.url == FEED


@pytest.mark.parametrize("code", [302, 303, 307])
def test_temporary_redirect_is_not_permanent(httpx_mock: HTTPXMock, code: int) -> None:
    """A chain with any 302/303/307 hop has no permanent_url."""
    redirect(httpx_mock, FEED, f"{PUBLIC}/a.xml", 301)
    redirect(httpx_mock, f"{PUBLIC}/a.xml", f"{PUBLIC}/b.xml", code)
    httpx_mock.add_response(url=f"{PUBLIC}/b.xml", content=RSS)
    result = get()
    assert (result.status, result.final_url) == (FetchStatus.OK, f"{PUBLIC}/b.xml")
    assert result.permanent_url is None


def test_relative_location_is_resolved(httpx_mock: HTTPXMock) -> None:
    """A relative Location is resolved against the redirecting URL."""
    redirect(httpx_mock, FEED, "/other/feed.xml", 302)
    httpx_mock.add_response(url=f"{PUBLIC}/other/feed.xml", content=RSS)
    assert get().final_url == f"{PUBLIC}/other/feed.xml"


def test_five_redirects_are_followed(httpx_mock: HTTPXMock) -> None:
    """Exactly five redirects are allowed."""
    urls = [f"{PUBLIC}/{i}" for i in range(6)]
    for source, target in itertools.pairwise(urls):
        redirect(httpx_mock, source, target)
    httpx_mock.add_response(url=urls[-1], content=RSS)
    assert get(urls[0]).status is FetchStatus.OK


def test_six_redirects_fail(httpx_mock: HTTPXMock) -> None:
    """A sixth redirect fails the fetch."""
    urls = [f"{PUBLIC}/{i}" for i in range(7)]
    for source, target in itertools.pairwise(urls):
        redirect(httpx_mock, source, target)
    result = get(urls[0])
    assert (result.status, result.error) == (FetchStatus.FAILED, "more than 5 redirects")


def test_redirect_loop_fails(httpx_mock: HTTPXMock) -> None:
    """A redirect back to a URL already visited fails as a loop."""
    redirect(httpx_mock, FEED, f"{PUBLIC}/b.xml", 302)
    redirect(httpx_mock, f"{PUBLIC}/b.xml", FEED, 302)
    result = get()
    assert (result.status, result.error) == (FetchStatus.FAILED, "redirect loop")


def test_redirect_without_location_fails(httpx_mock: HTTPXMock) -> None:
    """A 301 without Location is a failure, not a crash."""
    httpx_mock.add_response(url=FEED, status_code=301)
    result = get()
    assert (result.status, result.http_status) == (FetchStatus.FAILED, 301)
    assert result.error == "HTTP 301 without a Location"


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:8080/admin",
        "http://10.1.2.3/",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://localhost/x",
    ],
)
def test_redirect_from_public_to_private_refused(httpx_mock: HTTPXMock, target: str) -> None:
    """A public feed cannot redirect to a loopback or private address."""
    redirect(httpx_mock, FEED, target, 302)
    result = get()
    assert result.status is FetchStatus.FAILED
    assert result.error == "redirect to a non-public address refused"
    assert len(httpx_mock.get_requests()) == 1


def test_redirect_within_private_addresses_allowed(httpx_mock: HTTPXMock) -> None:
    """A feed on a private address may redirect to another private address."""
    redirect(httpx_mock, "http://10.0.0.5/feed", "http://127.0.0.1:8081/feed", 302)
    httpx_mock.add_response(url="http://127.0.0.1:8081/feed", content=RSS)
    assert get("http://10.0.0.5/feed").status is FetchStatus.OK


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://[::ffff:169.254.1.1]/",
    ],
)
def test_redirect_to_link_local_refused_even_from_a_private_address(
    httpx_mock: HTTPXMock, target: str
) -> None:
    """Link-local targets (cloud metadata) are refused whatever the feed's own address."""
    redirect(httpx_mock, "http://127.0.0.1:8081/feed", target, 302)
    result = get("http://127.0.0.1:8081/feed")
    assert result.error == "redirect to a link-local address refused"
    assert len(httpx_mock.get_requests()) == 1


def test_private_to_public_to_private_refused(httpx_mock: HTTPXMock) -> None:
    """Once a chain has passed a public address it cannot go back to a private one."""
    redirect(httpx_mock, "http://10.0.0.5/feed", FEED, 302)
    redirect(httpx_mock, FEED, "http://10.0.0.6/feed", 302)
    result = get("http://10.0.0.5/feed")
    assert result.error == "redirect to a non-public address refused"


def test_redirect_to_non_http_refused(httpx_mock: HTTPXMock) -> None:
    """Only http and https redirect targets are followed."""
    redirect(httpx_mock, FEED, "file:///etc/passwd", 302)
    result = get()
    assert (result.status, result.error) == (
        FetchStatus.FAILED,
        "redirect to a non-HTTP URL refused",
    )


# --- caps and decoding --------------------------------------------------------------------


def test_body_cap_by_content_length(httpx_mock: HTTPXMock) -> None:
    """A declared Content-Length above max_bytes fails."""
    httpx_mock.add_response(url=FEED, content=b"x" * 2000)
    result = get(max_bytes=1000)
    assert (result.status, result.error) == (FetchStatus.FAILED, "body larger than 1000 bytes")


class Chunks(httpx.AsyncByteStream):
    """A response body streamed in chunks (httpx decodes a bytes ``content`` eagerly)."""

    def __init__(self, data: bytes, size: int = 1 << 16) -> None:
        self.data = data
        self.size = size

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.data), self.size):
            yield self.data[start : start + self.size]


def test_body_cap_without_content_length(httpx_mock: HTTPXMock) -> None:
    """A streamed body without Content-Length is cut at max_bytes."""
    httpx_mock.add_response(url=FEED, stream=Chunks(b"x" * 2000, 100))
    result = get(max_bytes=1000)
    assert (result.status, result.error) == (FetchStatus.FAILED, "body larger than 1000 bytes")


def test_body_exactly_at_cap_is_accepted(httpx_mock: HTTPXMock) -> None:
    """A body of exactly max_bytes is fine."""
    httpx_mock.add_response(url=FEED, content=b"x" * 1000)
    assert get(max_bytes=1000).body == b"x" * 1000


def test_gzip_body_is_decoded(httpx_mock: HTTPXMock) -> None:
    """A gzip body is returned decompressed."""
    headers = {"Content-Encoding": "gzip"}
    httpx_mock.add_response(url=FEED, content=gzip.compress(RSS), headers=headers)
    assert get().body == RSS


def test_multi_member_gzip_is_decoded(httpx_mock: HTTPXMock) -> None:
    """Concatenated gzip members decode to the concatenated bodies."""
    content = gzip.compress(RSS[:10]) + gzip.compress(RSS[10:])
    httpx_mock.add_response(url=FEED, content=content, headers={"Content-Encoding": "gzip"})
    assert get().body == RSS


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS])
def test_deflate_body_is_decoded(httpx_mock: HTTPXMock, wbits: int) -> None:
    """'deflate' bodies decode whether zlib-wrapped or raw."""
    packer = zlib.compressobj(wbits=wbits)
    content = packer.compress(RSS) + packer.flush()
    httpx_mock.add_response(url=FEED, content=content, headers={"Content-Encoding": "deflate"})
    assert get().body == RSS


def test_cap_counts_decompressed_bytes(httpx_mock: HTTPXMock) -> None:
    """The cap applies to the decoded size, not the transferred size."""
    content = gzip.compress(b"x" * 5000)
    httpx_mock.add_response(url=FEED, content=content, headers={"Content-Encoding": "gzip"})
    result = get(max_bytes=4000)
    assert (result.status, result.error) == (FetchStatus.FAILED, "body larger than 4000 bytes")


def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzipped, built without holding them in memory."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    parts = [packer.compress(block) for _ in range(size >> 20)]
    return b"".join(parts) + packer.flush()


def test_gzip_bomb_is_bounded(httpx_mock: HTTPXMock) -> None:
    """A 256 MB gzip bomb is refused without ever holding much more than max_bytes."""
    bomb = gzip_bomb(256 << 20)
    headers = {"Content-Encoding": "gzip"}
    httpx_mock.add_response(url=FEED, stream=Chunks(bomb), headers=headers)
    tracemalloc.start()
    try:
        result = get(max_bytes=1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.status, result.error) == (
        FetchStatus.FAILED,
        f"body larger than {1 << 20} bytes",
    )
    assert peak < 16 << 20


def test_unsupported_encoding_fails(httpx_mock: HTTPXMock) -> None:
    """A content encoding we did not ask for (e.g. br) fails cleanly."""
    httpx_mock.add_response(url=FEED, content=b"\x00\x01", headers={"Content-Encoding": "br"})
    result = get()
    assert (result.status, result.error) == (
        FetchStatus.FAILED,
        "unsupported content encoding 'br'",
    )


def test_corrupt_gzip_fails(httpx_mock: HTTPXMock) -> None:
    """A body that claims gzip but is not fails as an invalid compressed body."""
    headers = {"Content-Encoding": "gzip"}
    httpx_mock.add_response(url=FEED, stream=Chunks(b"not gzip"), headers=headers)
    result = get()
    assert result.status is FetchStatus.FAILED
    assert result.error is not None and result.error.startswith("invalid compressed body")


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


# --- politeness -----------------------------------------------------------------------------


class Gate(httpx.AsyncBaseTransport):
    """A transport that holds every request until released, counting those in flight."""

    def __init__(self) -> None:
        self.in_flight: dict[str, int] = {}
        self.peak = 0
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.in_flight[host] = self.in_flight.get(host, 0) + 1
        self.peak = max(self.peak, sum(self.in_flight.values()))
        await self.release.wait()
        self.in_flight[host] -= 1
        return httpx.Response(200, stream=Chunks(RSS))


async def settle(gate: Gate, expected: int) -> None:
    """Let the event loop run until ``expected`` requests are held, then a while longer."""
    for _ in range(1000):
        if sum(gate.in_flight.values()) >= expected:
            break
        await asyncio.sleep(0)
    for _ in range(100):
        await asyncio.sleep(0)


def hold(urls: list[str], expected: int, **options: Any) -> tuple[dict[str, int], int, bool]:
    """Start fetches of ``urls`` through a Gate; report who was in flight, the peak, success."""
    gate = Gate()

    async def scenario(fetcher: Fetcher) -> tuple[dict[str, int], int, bool]:
        tasks = [asyncio.create_task(fetcher.fetch(u)) for u in urls]
        await settle(gate, expected)
        held = dict(gate.in_flight)
        gate.release.set()
        results = await asyncio.gather(*tasks)
        return held, gate.peak, all(r.status is FetchStatus.OK for r in results)

    return run(scenario, transport=gate, **options)


def test_per_host_limit() -> None:
    """At most per_host requests to one host are in flight at once."""
    held, peak, ok = hold([f"http://a.test/{i}" for i in range(6)], 2, per_host=2)
    assert held == {"a.test": 2}
    assert (peak, ok) == (2, True)


def test_global_concurrency_limit() -> None:
    """At most `concurrency` requests are in flight over all hosts."""
    urls = [f"http://{h}.test/{i}" for h in "abcd" for i in range(2)]
    held, peak, ok = hold(urls, 3, per_host=2, concurrency=3)
    assert sum(held.values()) == 3
    assert (peak, ok) == (3, True)


def test_other_hosts_not_blocked_by_busy_host() -> None:
    """A busy host does not stop requests to other hosts."""
    urls = [f"http://a.test/{i}" for i in range(6)] + ["http://b.test/1"]
    held, _, ok = hold(urls, 3, per_host=2, concurrency=3)
    assert held == {"a.test": 2, "b.test": 1}
    assert ok


# --- against a real loopback server ---------------------------------------------------------


@pytest.fixture
def server() -> Any:
    """A running FeedServer."""
    with FeedServer() as feed_server:
        yield feed_server


def test_etag_round_trip(server: FeedServer) -> None:
    """A second poll with the stored ETag gets a 304 from a real server."""
    server.add("/rss", RSS, etag='"v1"')

    async def twice(fetcher: Fetcher) -> tuple[FetchResult, FetchResult]:
        first = await fetcher.fetch(server.url("/rss"))
        second = await fetcher.fetch(server.url("/rss"), etag=first.etag)
        return first, second

    first, second = run(twice)
    assert (first.status, first.etag, first.body) == (FetchStatus.OK, '"v1"', RSS)
    assert second.status is FetchStatus.NOT_MODIFIED
    assert server.last("/rss").headers["if-none-match"] == '"v1"'
    assert server.count("/rss") == 2


def test_last_modified_round_trip(server: FeedServer) -> None:
    """Last-Modified is echoed verbatim and earns a 304."""
    stamp = "Tue, 24 Nov 2026 08:00:00 GMT"
    server.add("/rss", RSS, last_modified=stamp)
    first = get(server.url("/rss"))
    second = get(server.url("/rss"), last_modified=first.last_modified)
    assert first.last_modified == stamp
    assert second.status is FetchStatus.NOT_MODIFIED
    assert server.last("/rss").headers["user-agent"] == DEFAULT_USER_AGENT


def test_deadline_cuts_a_dripping_server(server: FeedServer) -> None:
    """A body dripped byte by byte is cut at the total deadline, not kept alive per read."""
    server.add("/slow", RSS, drip=0.3)
    result = get(server.url("/slow"), timeout=1.0)
    assert result.status is FetchStatus.FAILED
    assert result.error == "timed out: no complete response within 1 s"


def test_deadline_covers_a_slow_start(server: FeedServer) -> None:
    """A server that never answers times out."""
    server.add("/late", RSS, delay=30)
    result = get(server.url("/late"), timeout=0.5)
    assert result.status is FetchStatus.FAILED
    assert result.error == "timed out: no complete response within 0.5 s"


def test_real_redirect_on_loopback(server: FeedServer) -> None:
    """Redirects between loopback URLs work against a real server."""
    server.add("/old", b"", status=301, headers={"Location": "/new"})
    server.add("/new", RSS)
    result = get(server.url("/old"))
    assert (result.status, result.body) == (FetchStatus.OK, RSS)
    assert result.permanent_url == server.url("/new")


class RawServer:
    """A loopback TCP server that answers every connection with fixed bytes, then closes."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/feed"

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.sock.accept()
                with conn:
                    conn.recv(65536)
                    conn.sendall(self.answer)

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize("size", [70_000, 200_000])
def test_oversized_response_headers_fail(size: int) -> None:
    """Headers over 64 KB (ours) or 100 KB (the HTTP parser's) fail with one clear error."""
    raw = RawServer(
        b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * size + b"\r\nContent-Length: 2\r\n\r\nhi"
    )
    try:
        result = get(raw.url)
    finally:
        raw.close()
    assert (result.status, result.error) == (
        FetchStatus.FAILED,
        "response headers larger than 64 KB",
    )


def test_connection_refused_on_loopback() -> None:
    """A closed port is reported as a refused connection."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = get(f"http://127.0.0.1:{port}/feed")
    assert (result.status, result.error) == (FetchStatus.FAILED, "connection refused")


def test_tls_to_a_plain_http_server_fails_clearly(server: FeedServer) -> None:
    """Speaking TLS to a server that does not gives a TLS handshake error."""
    server.add("/rss", RSS)
    result = get(server.url("/rss").replace("http://", "https://"))
    assert result.status is FetchStatus.FAILED
    assert result.error is not None and result.error.startswith("TLS handshake failed: ")


def test_truncated_body_is_an_invalid_response() -> None:
    """A body shorter than its Content-Length fails as an invalid HTTP response."""
    raw = RawServer(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
    try:
        result = get(raw.url)
    finally:
        raw.close()
    assert result.error is not None and result.error.startswith("invalid HTTP response: ")
