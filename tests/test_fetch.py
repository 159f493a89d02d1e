"""Tests for newswatch.fetch: requests, conditional GET, politeness, real loopback servers."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from newswatch import __version__
from newswatch.fetch import (
    DEFAULT_USER_AGENT,
    Fetcher,
)
from newswatch.models import FetchResult, FetchStatus
from support.feedserver import FeedServer
from support.fetching import FEED, RSS, Chunks, get, run

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


def test_the_version_in_the_package_is_the_installed_one() -> None:
    """``__version__`` is written once, in the package; the installed metadata reads it."""
    from importlib.metadata import version

    assert __version__ == version("newswatch")
