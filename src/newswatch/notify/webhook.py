"""Webhook destination: the SPEC §5 JSON body of an alert or a digest, POSTed with an
idempotency key and an optional HMAC-SHA256 signature so the receiver can trust and
de-duplicate it."""

from __future__ import annotations

import hashlib
import hmac
import ssl
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from newswatch.config.schema import WebhookDestination
from newswatch.models import Alert, Digest, FeedRef
from newswatch.notify.base import JsonPoster, encode_json
from newswatch.notify.clean import iso_z, matched_pairs, safe_link

SIGNATURE_HEADER = "X-Newswatch-Signature"
WEBHOOK_DIGEST_MAX = 100


def _feed_json(feed: FeedRef) -> dict[str, Any]:
    """A feed as the payload names it: its name, and its URL only when it is http(s)."""
    return {"name": feed.name, "url": safe_link(feed.url)}


def webhook_payload(alert: Alert) -> dict[str, Any]:
    """The JSON body of SPEC §5 "webhook". Text is passed as data (JSON escapes it); links
    that are not http(s) are sent as null."""
    article = alert.article
    kind = {"kind": "feed_health"} if alert.kind == "health" else {}
    return {
        "id": alert.id,
        **kind,
        "watch": alert.watch,
        "matched": [{"term": t, "field": f} for t, f in matched_pairs(alert.matched)],
        "snippet": alert.snippet,
        "article": {
            "title": article.title,
            "url": safe_link(article.link),
            "published": iso_z(article.published),
            "summary": article.summary,
            "author": article.author,
            "feed": _feed_json(alert.feed),
        },
        "also": [
            {"title": s.title, "url": safe_link(s.url), "feed": _feed_json(s.feed)}
            for s in alert.also
        ],
    }


def webhook_digest_payload(digest: Digest) -> dict[str, Any]:
    """``{"digest": true, "id": ..., "watch": ..., "alerts": [<alert>, ...]}`` (SPEC §5);
    each alert is the body a single alert would have had."""
    return {
        "digest": True,
        "id": digest.id,
        "watch": digest.watch,
        "alerts": [webhook_payload(alert) for alert in digest.alerts],
    }


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
