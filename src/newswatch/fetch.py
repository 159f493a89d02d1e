"""Fetching feeds over HTTP: a conditional GET with hard caps, turned into a ``FetchResult``.

Everything a feed server controls is capped here: total time (one deadline over the whole
redirect chain and body, not httpx's per-read timeout), body size (counted after
decompression, which is itself bounded), redirects (count, loops, schemes, and no hop from a
public address to a private one). HTTP outcomes are classified by one function,
``classify``. ``Fetcher.fetch`` never raises for anything a server can do, and its error
texts never contain a full URL (URLs can carry secrets).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import ipaddress
import logging
import socket
import ssl
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Self

import httpx

from newswatch import __version__
from newswatch.models import FetchResult, FetchStatus
from newswatch.redact import redact_text, redact_url
from newswatch.retryafter import parse_retry_after

_log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = f"newswatch/{__version__} (+https://github.com/newswatch/newswatch)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, "
    "application/json;q=0.8, */*;q=0.1"
)
ACCEPT_ENCODING = "gzip, deflate"  # only what ``_Inflater`` can decode with a bound
# Response headers (names and values) larger than this fail the fetch. httpcore's HTTP/1.1
# parser itself refuses a head over 100 KiB ("Receive buffer too long") before we see it.
MAX_HEADER_BYTES = 64 * 1024


class Redirect(enum.StrEnum):
    """The kind of a redirect response: permanent moves are remembered, temporary ones not."""

    PERMANENT = "permanent"  # 301, 308
    TEMPORARY = "temporary"  # 302, 303, 307


@dataclass(frozen=True, slots=True)
class Decision:
    """What the status policy says about one response or failure.

    When ``redirect`` is set the caller follows ``Location``; ``status`` and ``error`` are
    then what to report if the redirect cannot be followed.
    """

    status: FetchStatus
    error: str | None = None
    redirect: Redirect | None = None


class _Refused(Exception):
    """A cap or a safety rule stopped a fetch; the message is short and safe to show."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


_REDIRECTS = {
    301: Redirect.PERMANENT,
    308: Redirect.PERMANENT,
    302: Redirect.TEMPORARY,
    303: Redirect.TEMPORARY,
    307: Redirect.TEMPORARY,
}


def classify(outcome: int | BaseException, *, empty_body: bool = False) -> Decision:
    """The one status policy: map an HTTP status code, or an exception, to a ``Decision``."""
    if isinstance(outcome, BaseException):
        return Decision(FetchStatus.FAILED, _describe(outcome))
    code = outcome
    if code in _REDIRECTS:
        return Decision(FetchStatus.FAILED, f"HTTP {code} without a Location", _REDIRECTS[code])
    if code == 304:
        return Decision(FetchStatus.NOT_MODIFIED)
    if 200 <= code < 300:
        if empty_body or code == 204:
            return Decision(FetchStatus.FAILED, "empty body")
        return Decision(FetchStatus.OK)
    if code == 410:
        return Decision(FetchStatus.GONE, "HTTP 410 (gone)")
    if code in (429, 503):
        return Decision(FetchStatus.RETRY_LATER, f"HTTP {code}")
    return Decision(FetchStatus.FAILED, f"HTTP {code}")


def _describe(exc: BaseException) -> str:
    """A short, URL-free description of a failed fetch (httpx messages embed the full URL)."""
    if isinstance(exc, _Refused):
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


def parse_max_age(cache_control: str | None) -> float | None:
    """``max-age`` seconds from a ``Cache-Control`` header, or None."""
    for directive in (cache_control or "").split(","):
        name, _, value = directive.strip().partition("=")
        value = value.strip().strip('"')
        if name.strip().lower() == "max-age" and value.isascii() and value.isdigit():
            return float(value)
    return None


def _ip_is_global(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for an address on the public internet (not loopback, private, link-local, ...)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _ip_is_link_local(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for link-local addresses (169.254.0.0/16, fe80::/10): cloud metadata services
    live there, and no feed has a reason to redirect to one."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_link_local


async def _addresses(url: httpx.URL) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address ``url``'s host stands for; IP literals need no DNS."""
    try:
        return {ipaddress.ip_address(url.host)}
    except ValueError:
        pass
    host = url.raw_host.decode("ascii")
    port = url.port or (443 if url.scheme == "https" else 80)
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return {ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos}


async def _is_public_host(url: httpx.URL) -> bool:
    """Whether every address of ``url``'s host is global."""
    addresses = await _addresses(url)
    return bool(addresses) and all(_ip_is_global(a) for a in addresses)


class _Inflater:
    """Incremental decoding of a response body that never produces more than ``limit`` bytes.

    zlib's ``max_length`` bounds each step, so a gzip bomb costs at most ~``limit`` bytes of
    memory before it is refused.
    """

    def __init__(self, content_encoding: str, limit: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c not in ("", "identity")]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            shown = redact_text(content_encoding)[:40]
            raise _Refused(f"unsupported content encoding {shown!r}")
        self._coding = codings[0] if codings else "identity"
        self._limit = limit
        self._total = 0
        self._pending = b""  # deflate: bytes held until the header can be sniffed
        self._zlib: zlib._Decompress | None = None
        if self._coding != "deflate" and self._coding != "identity":
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def _count(self, piece: bytes) -> bytes:
        self._total += len(piece)
        if self._total > self._limit:
            raise _Refused(f"body larger than {self._limit} bytes", http_status=200)
        return piece

    def _deflate_decoder(self, head: bytes) -> zlib._Decompress:
        """A decoder for "deflate": zlib-wrapped by the standard, raw from some servers."""
        wrapped = len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)

    def feed(self, data: bytes) -> bytes:
        """Decode the next raw chunk; raises ``_Refused`` past the limit."""
        if self._coding == "identity":
            return self._count(data)
        if self._zlib is None:
            self._pending += data
            if len(self._pending) < 2:
                return b""
            self._zlib = self._deflate_decoder(self._pending)
            data, self._pending = self._pending, b""
        return self._inflate(self._zlib, data)

    def _inflate(self, decoder: zlib._Decompress, data: bytes) -> bytes:
        out: list[bytes] = []
        while data:
            out.append(self._count(decoder.decompress(data, self._limit - self._total + 1)))
            if not decoder.eof:
                data = decoder.unconsumed_tail
                continue
            data = decoder.unused_data
            if not data.startswith(b"\x1f\x8b"):  # not another gzip member: trailing junk
                break
            decoder = self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return b"".join(out)

    def finish(self) -> bytes:
        """Whatever the decoder still holds, at the end of the body."""
        if self._zlib is None:
            if not self._pending:
                return b""
            self._zlib = self._deflate_decoder(self._pending)
            return self._inflate(self._zlib, self._pending)
        return self._count(self._zlib.flush(self._limit - self._total + 1))


@dataclass(slots=True)
class _Hop:
    """One response of a redirect chain, reduced to what the policy needs."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes = b""


@dataclass(slots=True)
class _HostSlot:
    semaphore: asyncio.Semaphore
    users: int = 0


@dataclass(slots=True)
class _Budget:
    """The time left for one fetch; only time spent talking to servers is charged."""

    remaining: float
    spent: float = field(default=0.0)

    @contextlib.asynccontextmanager
    async def charge(self) -> AsyncIterator[None]:
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
    waiting for a free slot is not charged to a fetch's deadline.
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
    ) -> None:
        self._timeout = timeout
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
        _log.debug(
            "fetch done url=%s status=%s http=%s",
            redact_url(url),
            result.status,
            result.http_status,
        )
        return replace(result, elapsed=budget.spent)

    def _failure(self, url: str, exc: Exception) -> FetchResult:
        if not isinstance(exc, _Refused | httpx.HTTPError | OSError | TimeoutError):
            _log.warning("fetch crashed url=%s", redact_url(url), exc_info=True)
        status = exc.http_status if isinstance(exc, _Refused) else None
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
        current = httpx.URL(url)
        visited = {current.copy_with(fragment=None)}
        kinds: list[Redirect] = []
        public_seen: bool | None = None
        while True:
            # Host slot first: feeds queued behind a busy host must not hold global slots.
            async with self._host_slot(current.host), self._slots, budget.charge():
                hop = await self._exchange(current, headers)
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
            if len(kinds) >= self._max_redirects:
                raise _Refused(f"more than {self._max_redirects} redirects")
            target = current.join(location).copy_with(fragment=None)
            if target in visited:
                raise _Refused("redirect loop")
            async with budget.charge():
                public_seen = await self._check_target(current, target, public_seen)
            visited.add(target)
            kinds.append(decision.redirect)
            current = target
        moved = bool(kinds) and all(k is Redirect.PERMANENT for k in kinds)
        return self._result(url, hop, str(current) if moved else None, etag, last_modified)

    async def _check_target(
        self, origin: httpx.URL, target: httpx.URL, public_seen: bool | None
    ) -> bool:
        """Refuse non-HTTP targets, any link-local target, and a move from a public
        address to a non-public one.

        Returns whether a public address has been seen so far in the chain.
        """
        if target.scheme not in ("http", "https"):
            raise _Refused("redirect to a non-HTTP URL refused")
        if public_seen is None:
            try:
                public_seen = await _is_public_host(origin)
            except OSError:  # cannot tell: assume public, the safer side
                public_seen = True
        try:
            addresses = await _addresses(target)
        except OSError as exc:
            raise _Refused("redirect target host does not resolve") from exc
        if any(_ip_is_link_local(a) for a in addresses):
            raise _Refused("redirect to a link-local address refused")
        target_public = bool(addresses) and all(_ip_is_global(a) for a in addresses)
        if public_seen and not target_public:
            raise _Refused("redirect to a non-public address refused")
        return public_seen or target_public

    async def _exchange(self, url: httpx.URL, headers: dict[str, str]) -> _Hop:
        """One GET; the body is read (bounded) only for a 2xx response."""
        async with self._client.stream("GET", url, headers=headers) as response:
            if sum(len(k) + len(v) for k, v in response.headers.raw) > MAX_HEADER_BYTES:
                raise _Refused(f"response headers larger than {MAX_HEADER_BYTES // 1024} KB")
            hop = _Hop(str(url), response.status_code, response.headers)
            if 200 <= response.status_code < 300:
                hop.body = await self._read_body(response)
            return hop

    async def _read_body(self, response: httpx.Response) -> bytes:
        """Read raw bytes and decode them ourselves, so the cap holds after decompression."""
        inflater = _Inflater(response.headers.get("content-encoding", ""), self._max_bytes)
        length = response.headers.get("content-length", "")
        encoded = response.headers.get("content-encoding", "identity").strip().lower()
        if encoded == "identity" and length.isdigit() and int(length) > self._max_bytes:
            raise _Refused(f"body larger than {self._max_bytes} bytes", http_status=200)
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


def _validator(received: str | None, sent: str | None, fresh: bool) -> str | None:
    """The ETag/Last-Modified to remember: only from a usable response, verbatim."""
    if not fresh:
        return None
    return received or sent
