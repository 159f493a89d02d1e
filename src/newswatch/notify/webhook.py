"""Webhook destination: the SPEC §5 JSON body, POSTed with an idempotency key and an
optional HMAC-SHA256 signature so the receiver can trust and de-duplicate it."""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
from collections.abc import Callable
from datetime import datetime

import httpx

from newswatch.config.schema import WebhookDestination
from newswatch.models import Alert, Digest
from newswatch.notify.base import JsonPoster
from newswatch.notify.digest import WEBHOOK_DIGEST_MAX, webhook_digest_payload
from newswatch.notify.render import webhook_payload

SIGNATURE_HEADER = "X-Newswatch-Signature"


def encode_json(payload: object) -> bytes:
    """Compact, ASCII-only JSON: valid whatever odd characters a feed contains. ``<``,
    ``>`` and ``&`` are written as ``\\u003c`` etc. (the same JSON), so a receiver that
    pastes the raw body into a web page gets no live markup from it."""
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    return text.translate(_JSON_HTML_SAFE).encode("ascii")


_JSON_HTML_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of body>``, the value of ``X-Newswatch-Signature``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookNotifier:
    """POSTs each alert as JSON to a configured HTTP endpoint."""

    digest_max = WEBHOOK_DIGEST_MAX

    def __init__(
        self,
        destination: WebhookDestination,
        *,
        user_agent: str,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.name = destination.name
        self._secret = destination.secret.get_secret_value() if destination.secret else None
        self._headers = {k: v.get_secret_value() for k, v in destination.headers.items()}
        secrets = [*self._headers.values(), *([self._secret] if self._secret else [])]
        self._poster = JsonPoster(
            destination=self.name,
            url=destination.url,
            user_agent=user_agent,
            timeout=timeout,
            secrets=secrets,
            ssl_context=ssl_context,
            transport=transport,
            clock=clock,
        )

    async def send(self, alert: Alert) -> None:
        """POST the alert; the same alert always carries the same ``Idempotency-Key``."""
        await self._post(encode_json(webhook_payload(alert)), alert.id)

    async def send_digest(self, digest: Digest) -> None:
        """POST ``{"digest": true, ...}``; the digest's id is its ``Idempotency-Key``."""
        await self._post(encode_json(webhook_digest_payload(digest)), digest.id)

    async def _post(self, body: bytes, key: str) -> None:
        # httpx.Headers: ours replace a configured header of the same name in any casing.
        headers = httpx.Headers(self._headers)
        headers["Idempotency-Key"] = key
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = sign(self._secret, body)
        await self._poster.post(body, headers)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._poster.aclose()
