"""The fetcher: one conditional GET with hard caps, redirects followed under the policy,
turned into a ``FetchResult``; per-host and global politeness limits across feeds.

One deadline covers the whole redirect chain and body (not httpx's per-read timeout); no
``httpx`` type leaves this package (DESIGN rule 2).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Self

import httpx

from newswatch import __version__
from newswatch.fetch.failures import MAX_HEADER_BYTES, Refused
from newswatch.fetch.inflate import ACCEPT_ENCODING, Inflater
from newswatch.fetch.policy import classify, parse_max_age
from newswatch.fetch.redirects import Chain
from newswatch.models import FetchResult, FetchStatus
from newswatch.redact import redact_url
from newswatch.waits import parse_retry_after

__all__ = ["ACCEPT", "DEFAULT_USER_AGENT", "Fetcher"]

# The stage's logger: log lines keep the name they had before fetch became a package.
_log = logging.getLogger("newswatch.fetch")

DEFAULT_USER_AGENT = f"newswatch/{__version__} (+https://github.com/newswatch/newswatch)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, "
    "application/json;q=0.8, */*;q=0.1"
)


@dataclass(slots=True)
class _Hop:
    """One response of a redirect chain, reduced to what the policy needs."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes = b""


@dataclass(slots=True)
class _HostSlot:
    """One host's share of the politeness limit, and how many fetches are using it."""

    semaphore: asyncio.Semaphore
    users: int = 0


@dataclass(slots=True)
class _Budget:
    """The time left for one fetch; only time spent talking to servers is charged."""

    remaining: float
    spent: float = field(default=0.0)

    @contextlib.asynccontextmanager
    async def charge(self) -> AsyncIterator[None]:
        """Run the block within the time left, and charge the time it took."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(self.remaining):
                yield
        finally:
            used = loop.time() - started
            self.remaining -= used
            self.spent += used


class Fetcher:
    """Fetches feeds politely (per-host and global concurrency limits) with hard caps.

    One instance is shared by all feeds so that the limits hold across them. Time spent
    waiting for a free slot is not charged to a fetch's deadline. ``feed_headers`` are
    extra request headers by feed URL (a feed's own ``headers:``); they go with every
    request of that feed to its own origin, never along a redirect to another origin, and
    follow the feed to the URL a permanent redirect gave it.
    """

    def __init__(
        self,
        *,
        timeout: float,
        max_bytes: int,
        concurrency: int = 32,
        per_host: int = 2,
        max_redirects: int = 5,
        user_agent: str = DEFAULT_USER_AGENT,
        clock: Callable[[], datetime],
        transport: httpx.AsyncBaseTransport | None = None,
        feed_headers: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self._timeout = timeout
        self._feed_headers = {url: dict(h) for url, h in (feed_headers or {}).items() if h}
        self._max_bytes = max_bytes
        self._per_host = per_host
        self._max_redirects = max_redirects
        self._clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self._hosts: dict[str, _HostSlot] = {}
        self._client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=concurrency),
            headers={
                "User-Agent": user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": ACCEPT_ENCODING,
            },
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """Conditional GET of ``url``; never raises for anything the server can do."""
        budget = _Budget(self._timeout)
        try:
            result = await self._follow(url, budget, etag, last_modified)
        except Exception as exc:  # a server must never crash the poll loop
            result = self._failure(url, exc)
        return replace(result, elapsed=budget.spent)

    def _failure(self, url: str, exc: Exception) -> FetchResult:
        """The result for a fetch that raised: classified, and logged if unexpected."""
        if not isinstance(exc, Refused | httpx.HTTPError | OSError | TimeoutError):
            _log.warning("fetch crashed url=%s", redact_url(url), exc_info=True)
        status = exc.http_status if isinstance(exc, Refused) else None
        decision = classify(exc)
        error = decision.error
        if error == "timed out":
            error = f"timed out: no complete response within {self._timeout:g} s"
        return FetchResult(url=url, status=decision.status, http_status=status, error=error)

    @contextlib.asynccontextmanager
    async def _host_slot(self, host: str) -> AsyncIterator[None]:
        """At most ``per_host`` requests to one host at once, across all feeds."""
        slot = self._hosts.get(host)
        if slot is None:
            slot = self._hosts[host] = _HostSlot(asyncio.Semaphore(self._per_host))
        slot.users += 1
        try:
            async with slot.semaphore:
                yield
        finally:
            slot.users -= 1
            if slot.users == 0:
                del self._hosts[host]

    def _request_headers(self, etag: str | None, last_modified: str | None) -> dict[str, str]:
        """The conditional-GET headers for the validators stored from the last fetch."""
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return headers

    async def _follow(
        self, url: str, budget: _Budget, etag: str | None, last_modified: str | None
    ) -> FetchResult:
        """Request ``url`` and follow redirects under the policy, then build the result."""
        headers = self._request_headers(etag, last_modified)
        extra = self._feed_headers.get(url, {})
        current = origin = httpx.URL(url)
        chain = Chain(current, self._max_redirects)
        while True:
            sent = {**extra, **headers} if _same_origin(current, origin) else headers
            # Host slot first: feeds queued behind a busy host must not hold global slots.
            async with self._host_slot(current.host), self._slots, budget.charge():
                hop = await self._exchange(current, sent)
            decision = classify(hop.status)
            if decision.redirect is None:
                break
            location = hop.headers.get("location", "").strip()
            if not location:
                return FetchResult(
                    url=url,
                    status=decision.status,
                    http_status=hop.status,
                    final_url=str(current),
                    error=decision.error,
                )
            async with budget.charge():
                current = await chain.follow(current, location, decision.redirect)
        permanent_url = str(current) if chain.permanent else None
        if permanent_url is not None and extra and _same_origin(current, origin):
            self._feed_headers.setdefault(permanent_url, extra)  # the feed's next URL
        return self._result(url, hop, permanent_url, etag, last_modified)

    async def _exchange(self, url: httpx.URL, headers: dict[str, str]) -> _Hop:
        """One GET; the body is read (bounded) only for a 2xx response."""
        async with self._client.stream("GET", url, headers=headers) as response:
            if sum(len(k) + len(v) for k, v in response.headers.raw) > MAX_HEADER_BYTES:
                raise Refused(f"response headers larger than {MAX_HEADER_BYTES // 1024} KB")
            hop = _Hop(str(url), response.status_code, response.headers)
            if 200 <= response.status_code < 300:
                hop.body = await self._read_body(response)
            return hop

    async def _read_body(self, response: httpx.Response) -> bytes:
        """Read raw bytes and decode them ourselves, so the cap holds after decompression."""
        inflater = Inflater(response.headers.get("content-encoding", ""), self._max_bytes)
        length = response.headers.get("content-length", "")
        encoded = response.headers.get("content-encoding", "identity").strip().lower()
        if encoded == "identity" and length.isdigit() and int(length) > self._max_bytes:
            raise Refused(f"body larger than {self._max_bytes} bytes", http_status=200)
        chunks = [inflater.feed(raw) async for raw in response.aiter_raw()]
        chunks.append(inflater.finish())
        return b"".join(chunks)

    def _result(
        self,
        url: str,
        hop: _Hop,
        permanent_url: str | None,
        etag: str | None,
        last_modified: str | None,
    ) -> FetchResult:
        """Turn the last response of the chain into a ``FetchResult`` under the policy."""
        decision = classify(hop.status, empty_body=not hop.body)
        status = decision.status
        fresh = status in (FetchStatus.OK, FetchStatus.NOT_MODIFIED)
        retry_after = None
        if status is FetchStatus.RETRY_LATER:
            retry_after = parse_retry_after(hop.headers.get("retry-after"), self._clock())
        # A 304 may omit the validators: echo ours so the caller can always store the result's.
        sent = status is FetchStatus.NOT_MODIFIED
        return FetchResult(
            url=url,
            status=status,
            http_status=hop.status,
            final_url=hop.url,
            permanent_url=permanent_url,
            body=hop.body if status is FetchStatus.OK else b"",
            content_type=hop.headers.get("content-type", ""),
            etag=_validator(hop.headers.get("etag"), etag if sent else None, fresh),
            last_modified=_validator(
                hop.headers.get("last-modified"), last_modified if sent else None, fresh
            ),
            retry_after=retry_after,
            max_age=parse_max_age(hop.headers.get("cache-control")) if fresh else None,
            error=decision.error,
        )


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    """Same scheme, host and port: where a feed's own headers (credentials) may go."""
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def _validator(received: str | None, sent: str | None, fresh: bool) -> str | None:
    """The ETag/Last-Modified to remember: only from a usable response, verbatim."""
    if not fresh:
        return None
    return received or sent
