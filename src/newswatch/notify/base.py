"""The ``Notifier`` seam and what Slack and webhooks share: JSON encoding, HTTP delivery rules.

A notifier's ``send`` returns only once the destination accepted the alert; otherwise it
raises ``TransientDeliveryError`` (try again, maybe after ``retry_after`` seconds) or
``PermanentDeliveryError`` (retrying cannot help). Error texts never carry a destination's
URL, token or secret: a Slack webhook URL *is* the credential.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

import httpx

from newswatch.errors import PermanentDeliveryError, TransientDeliveryError
from newswatch.models import Alert, Digest
from newswatch.notify.clean import clean_line, cut
from newswatch.redact import redact_text, redact_url
from newswatch.waits import http_date, parse_retry_after

TRANSIENT_STATUSES = frozenset({408, 425, 429})
_EXCERPT_BYTES = 2048
_JSON_HTML_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def encode_json(payload: object) -> bytes:
    """Compact, ASCII-only JSON: valid whatever odd characters a feed contains. ``<``,
    ``>`` and ``&`` are written as ``\\u003c`` etc. (the same JSON), so a receiver that
    pastes the raw body into a web page gets no live markup from it."""
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    return text.translate(_JSON_HTML_SAFE).encode("ascii")


@runtime_checkable
class Notifier(Protocol):
    """Delivers alerts to one configured destination."""

    name: str
    digest_max: int  # the most alerts one digest message may carry

    async def send(self, alert: Alert) -> None:
        """Deliver ``alert``; return only when the destination accepted it."""
        ...

    async def send_digest(self, digest: Digest) -> None:
        """Deliver several alerts of one watch as one message; same rules as ``send``."""
        ...

    async def aclose(self) -> None:
        """Release connections; the notifier is not used afterwards."""
        ...


class Scrubber:
    """Removes a destination's secrets (URL, its path and query, tokens) from error text."""

    def __init__(self, url: str, secrets: Iterable[str] = ()) -> None:
        parts = urlsplit(url)
        candidates = [url, parts.path, parts.query, parts.username, parts.password, *secrets]
        # Longest first, so a secret that contains another is removed whole.
        found = {s for s in candidates if s and len(s) >= 4}
        self._secrets = sorted(found, key=len, reverse=True)
        self.where = redact_url(url)

    def __call__(self, text: str) -> str:
        """``text`` without any secret, and with every URL in it redacted."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return redact_text(text)


class JsonPoster:
    """POSTs a JSON body to one URL and classifies the answer: 2xx accepted; 408, 425, 429,
    5xx and network failures transient; other statuses permanent. Redirects are not
    followed (a moved webhook is a configuration problem, not something to guess)."""

    def __init__(
        self,
        *,
        destination: str,
        url: str,
        user_agent: str,
        timeout: float,
        secrets: Iterable[str] = (),
        ssl_context: ssl.SSLContext | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.destination = destination
        self._url = url
        self._timeout = timeout
        self._clock = clock
        self._scrub = Scrubber(url, secrets)
        self._client = httpx.AsyncClient(
            transport=transport,
            verify=ssl_context if ssl_context is not None else True,
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": user_agent},
        )

    async def post(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Send ``body``; return when the peer answered 2xx, raise a DeliveryError otherwise."""
        try:
            # httpx's timeout is per read: only a deadline bounds a peer that drips bytes.
            async with asyncio.timeout(self._timeout):
                status, reason, answer, excerpt = await self._exchange(body, headers)
        except (httpx.HTTPError, OSError, TimeoutError) as exc:
            if isinstance(exc, TimeoutError | httpx.TimeoutException):
                detail = f"no answer within {self._timeout:g} s"
            else:
                detail = clean_line(str(exc)) or "no detail"
            message = f"{type(exc).__name__} posting to {self._scrub.where}: {detail}"
            # Not chained: httpx exceptions and their requests carry the full URL.
            raise TransientDeliveryError(
                self._scrub(message), destination=self.destination
            ) from None
        self._classify(status, reason, answer, excerpt)

    async def _exchange(
        self, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, str, httpx.Headers, str]:
        """POST and read at most a short excerpt of the answer (enough for an error text)."""
        request_headers = httpx.Headers(headers)
        request_headers["Content-Type"] = "application/json"  # replaces any casing of it
        async with self._client.stream(
            "POST", self._url, content=body, headers=request_headers
        ) as response:
            chunks = bytearray()
            async for chunk in response.aiter_bytes():
                chunks += chunk
                if len(chunks) >= _EXCERPT_BYTES:
                    break
            excerpt = clean_line(bytes(chunks[:_EXCERPT_BYTES]).decode("utf-8", "replace"))
            return response.status_code, response.reason_phrase, response.headers, excerpt

    def _classify(self, status: int, reason: str, headers: httpx.Headers, excerpt: str) -> None:
        """Return for 2xx, raise the right DeliveryError for anything else."""
        if 200 <= status < 300:
            return
        message = f"HTTP {status} {clean_line(reason)} from {self._scrub.where}".rstrip()
        if excerpt:
            message += f": {cut(excerpt, 200)}"
        message = self._scrub(message)
        if status in TRANSIENT_STATUSES or 500 <= status < 600:
            raise TransientDeliveryError(
                message, destination=self.destination, retry_after=self._retry_after(headers)
            )
        raise PermanentDeliveryError(message, destination=self.destination)

    def _retry_after(self, headers: httpx.Headers) -> float | None:
        """The answer's Retry-After in seconds; an HTTP-date counts from the answer's own
        Date, else from the clock (when one was given)."""
        reference = http_date(headers.get("Date"))
        if reference is None and self._clock is not None:
            reference = self._clock()
        return parse_retry_after(headers.get("Retry-After"), reference=reference)

    async def aclose(self) -> None:
        """Close the HTTP client (and with it a transport that was passed in)."""
        await self._client.aclose()
