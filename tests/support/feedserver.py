"""A real feed server on 127.0.0.1 for tests: ETag/Last-Modified with 304s, slow bodies.

Usage::

    with FeedServer() as server:
        server.add("/rss", b"<rss .../>", etag='"v1"')
        url = server.url("/rss")
        ...
        assert server.count("/rss") == 1
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


@dataclass
class Route:
    """What the server answers on one path."""

    body: bytes
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line
    drip: float = 0.0  # seconds between body bytes (one byte at a time) when > 0
    fresh: Callable[[], bytes] | None = None  # when set, a new body for every request


@dataclass(frozen=True)
class Seen:
    """One request the server received."""

    path: str
    headers: dict[str, str]  # lower-cased names
    at: float = field(default_factory=time.monotonic)  # when it arrived (monotonic clock)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.owner.record(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
        route = self.server.owner.routes.get(self.path)
        try:
            if route is None:
                self._send(404, {}, b"not found")
            else:
                self._answer(route)
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client hung up (deadline tests do that)

    def _answer(self, route: Route) -> None:
        if route.delay and self.server.owner.stopping.wait(route.delay):
            return
        headers = dict(route.headers)
        if route.etag:
            headers["ETag"] = route.etag
        if route.last_modified:
            headers["Last-Modified"] = route.last_modified
        if self._not_modified(route):
            self._send(304, headers, b"")
            return
        headers["Content-Type"] = route.content_type
        body = route.fresh() if route.fresh is not None else route.body
        self._send(route.status, headers, body, drip=route.drip)

    def _not_modified(self, route: Route) -> bool:
        tags = self.headers.get("If-None-Match")
        if tags is not None:
            wanted = [t.strip().removeprefix("W/") for t in tags.split(",")]
            return route.etag is not None and route.etag.removeprefix("W/") in wanted
        since = self.headers.get("If-Modified-Since")
        return since is not None and since == route.last_modified

    def _send(self, status: int, headers: dict[str, str], body: bytes, drip: float = 0.0) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not drip:
            self.wfile.write(body)
            return
        for i in range(len(body)):
            if self.server.owner.stopping.wait(drip):
                return
            self.wfile.write(body[i : i + 1])
            self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FeedServer

    def get_request(self) -> tuple[socket.socket, Any]:
        # As real servers do: without TCP_NODELAY the end of each response waits for the
        # client's delayed ACK (~40 ms per request on loopback), which would measure
        # this server, not the clients (bench/coldpass.py).
        conn, address = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, address


class FeedServer:
    """A threaded HTTP server on an ephemeral loopback port serving registered feeds."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._httpd.server_address[1])

    def url(self, path: str) -> str:
        """The full URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, path: str, body: bytes, **options: Any) -> Route:
        """Serve ``body`` on ``path``; ``options`` are ``Route`` fields."""
        route = Route(body, **options)
        self.routes[path] = route
        return route

    def record(self, seen: Seen) -> None:
        """Remember one request (called from handler threads)."""
        with self._lock:
            self.requests.append(seen)

    def count(self, path: str) -> int:
        """How many requests ``path`` received."""
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def times(self, path: str) -> list[float]:
        """When each request for ``path`` arrived (monotonic clock), in order."""
        with self._lock:
            return [r.at for r in self.requests if r.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 15.0) -> list[float]:
        """Block until ``path`` has received ``count`` requests; their arrival times."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            times = self.times(path)
            if len(times) >= count:
                return times
            time.sleep(0.01)
        raise AssertionError(f"{path}: {len(self.times(path))} requests, wanted {count}")

    def last(self, path: str) -> Seen:
        """The most recent request for ``path``."""
        with self._lock:
            return [r for r in self.requests if r.path == path][-1]
