"""Webhooks: the SPEC §5 payload, and delivery against a real loopback HTTP receiver (body,
headers, outcomes)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from newswatch.config import WebhookDestination
from newswatch.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from newswatch.models import Hit
from newswatch.notify import WebhookNotifier
from newswatch.notify.webhook import webhook_payload
from support.alerts import deliver, destination, make_alert
from support.receivers import Reply, WebhookReceiver, refused_url, silent_server

UA = "newswatch/test"


def notifier(url: str, *, timeout: float = 5.0, **fields: Any) -> WebhookNotifier:
    """A webhook notifier posting to ``url``."""
    dest = destination(name="ops-hook", type="webhook", url=url, **fields)
    assert isinstance(dest, WebhookDestination)
    return WebhookNotifier(dest, user_agent=UA, timeout=timeout)


def failure(url: str, **fields: Any) -> DeliveryError:
    """The DeliveryError that sending the standard alert to ``url`` raises."""
    with pytest.raises(DeliveryError) as caught:
        deliver(notifier(url, **fields), make_alert())
    return caught.value


def test_body_is_the_spec_payload() -> None:
    """The POSTed JSON is exactly the SPEC §5 payload of the alert."""
    alert = make_alert()
    with WebhookReceiver() as hook:
        deliver(notifier(hook.url), alert)
    (request,) = hook.requests
    assert (request.method, request.path) == ("POST", hook.path)
    assert request.json() == webhook_payload(alert)


def test_standard_headers() -> None:
    """JSON content type, the alert id as Idempotency-Key, and our User-Agent."""
    with WebhookReceiver() as hook:
        deliver(notifier(hook.url), make_alert(id="al_77"))
    request = hook.requests[0]
    assert request.header("Content-Type") == "application/json"
    assert request.header("Idempotency-Key") == "al_77"
    assert request.header("User-Agent") == UA


def test_signature_verifies_with_the_secret() -> None:
    """X-Newswatch-Signature is sha256=HMAC-SHA256(secret, raw body)."""
    with WebhookReceiver() as hook:
        deliver(notifier(hook.url, secret="shh-its-a-secret"), make_alert())
    request = hook.requests[0]
    expected = hmac.new(b"shh-its-a-secret", request.body, hashlib.sha256).hexdigest()
    assert request.header("X-Newswatch-Signature") == f"sha256={expected}"


def test_no_signature_without_secret() -> None:
    """Without a secret no signature header is sent."""
    with WebhookReceiver() as hook:
        deliver(notifier(hook.url), make_alert())
    assert hook.requests[0].header("X-Newswatch-Signature") is None


def test_custom_headers_arrive() -> None:
    """Configured headers (secret values) are sent as given."""
    headers = {"Authorization": "Bearer tok-123", "X-Team": "analysts"}
    with WebhookReceiver() as hook:
        deliver(notifier(hook.url, headers=headers), make_alert())
    request = hook.requests[0]
    assert request.header("Authorization") == "Bearer tok-123"
    assert request.header("X-Team") == "analysts"


def test_configured_headers_cannot_replace_ours() -> None:
    """A configured Content-Type or Idempotency-Key, in any casing, gives way to ours."""
    headers = {"content-type": "text/plain", "IDEMPOTENCY-KEY": "mine"}
    with WebhookReceiver() as hook:
        deliver(notifier(hook.url, headers=headers), make_alert(id="al_1"))
    sent = [(k.lower(), v) for k, v in hook.requests[0].headers]
    assert [v for k, v in sent if k == "content-type"] == ["application/json"]
    assert [v for k, v in sent if k == "idempotency-key"] == ["al_1"]


def test_retry_sends_identical_body_and_key() -> None:
    """Sending the same alert again repeats the same body, key and signature."""
    alert = make_alert()
    with WebhookReceiver() as hook:
        deliver(notifier(hook.url, secret="k3y-k3y"), alert, alert)
    first, second = hook.requests
    assert first.body == second.body
    for name in ("Idempotency-Key", "X-Newswatch-Signature"):
        assert first.header(name) == second.header(name)


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_2xx_is_accepted(status: int) -> None:
    """Any 2xx answer means the destination accepted the alert."""
    with WebhookReceiver() as hook:
        hook.script(Reply(status, body=b""))
        deliver(notifier(hook.url), make_alert())
    assert len(hook.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 410, 413, 422])
def test_other_4xx_is_permanent(status: int) -> None:
    """A 4xx other than 408/425/429 cannot be cured by retrying."""
    with WebhookReceiver() as hook:
        hook.script(Reply(status))
        error = failure(hook.url)
    assert isinstance(error, PermanentDeliveryError)
    assert f"HTTP {status}" in str(error)
    assert error.destination == "ops-hook"


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_transient(status: int) -> None:
    """408, 425, 429 and 5xx are worth retrying."""
    with WebhookReceiver() as hook:
        hook.script(Reply(status))
        error = failure(hook.url)
    assert isinstance(error, TransientDeliveryError)
    assert error.retry_after is None


def test_redirect_is_not_followed() -> None:
    """A 3xx is a configuration problem: permanent, and the Location is not visited."""
    with WebhookReceiver() as hook:
        hook.script(Reply(301, {"Location": hook.url + "/moved"}))
        error = failure(hook.url)
    assert isinstance(error, PermanentDeliveryError)
    assert len(hook.requests) == 1


def test_503_retry_after_seconds_then_200() -> None:
    """503 + Retry-After: 7 is transient with retry_after 7; the next try is accepted."""
    alert = make_alert()
    with WebhookReceiver() as hook:
        hook.script(Reply(503, {"Retry-After": "7"}), Reply(200))
        with pytest.raises(TransientDeliveryError) as caught:
            deliver(notifier(hook.url), alert)
        deliver(notifier(hook.url), alert)
    assert caught.value.retry_after == 7.0
    assert len(hook.requests) == 2


def test_retry_after_http_date_counts_from_the_response_date() -> None:
    """An HTTP-date Retry-After is measured against the server's own Date header."""
    headers = {
        "Date": "Wed, 21 Oct 2026 07:28:00 GMT",
        "Retry-After": "Wed, 21 Oct 2026 07:30:00 GMT",
    }
    with WebhookReceiver() as hook:
        hook.script(Reply(429, headers))
        error = failure(hook.url)
    assert isinstance(error, TransientDeliveryError)
    assert error.retry_after == 120.0


def test_retry_after_is_capped_at_six_hours() -> None:
    """A Retry-After of a week is honoured only up to 6 h."""
    with WebhookReceiver() as hook:
        hook.script(Reply(429, {"Retry-After": "604800"}))
        error = failure(hook.url)
    assert isinstance(error, TransientDeliveryError)
    assert error.retry_after == 6 * 3600


@pytest.mark.parametrize(
    ("clock", "expected"),
    [(lambda: datetime(2026, 10, 21, 7, 29, tzinfo=UTC), 60.0), (None, None)],
)
def test_retry_after_date_without_date_header_uses_the_clock(
    clock: Callable[[], datetime] | None, expected: float | None
) -> None:
    """With no Date in the answer an HTTP-date counts from the clock, if one was given."""

    def busy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2026 07:30:00 GMT"})

    dest = destination(name="ops-hook", type="webhook", url="https://hooks.example.org/w")
    assert isinstance(dest, WebhookDestination)
    transport = httpx.MockTransport(busy)
    hook = WebhookNotifier(dest, user_agent=UA, transport=transport, clock=clock)
    with pytest.raises(TransientDeliveryError) as caught:
        deliver(hook, make_alert())
    assert caught.value.retry_after == expected


def test_error_text_never_contains_the_url_or_secrets() -> None:
    """A receiver echoing its URL, token path and our header back does not leak them."""
    with WebhookReceiver() as hook:
        echo = f"no hook at {hook.url} ({hook.path}); auth Bearer tok-secret-9".encode()
        hook.script(Reply(404, body=echo))
        error = failure(hook.url, headers={"Authorization": "Bearer tok-secret-9"})
    text = str(error)
    assert "404" in text and "no hook at" in text
    for secret in (hook.url, hook.path, "s3cr3t-token", "tok-secret-9"):
        assert secret not in text


def test_connection_refused_is_transient_without_url() -> None:
    """Nobody listening: transient, and the error text has no URL path."""
    url = refused_url()
    error = failure(url)
    assert isinstance(error, TransientDeliveryError)
    assert "/nobody" not in str(error)


def test_silent_server_times_out_transiently() -> None:
    """A server that never answers ends in a transient error after the timeout."""
    with silent_server() as url, pytest.raises(TransientDeliveryError, match="no answer"):
        deliver(notifier(url, timeout=0.3), make_alert())


def test_httpx_error_carrying_the_url_is_scrubbed_and_unchained() -> None:
    """Even an exception whose message holds the URL yields a clean, unchained error."""
    secret_url = "https://hooks.example.org/services/T1/B2/very-secret-token"

    def explode(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    dest = destination(name="ops-hook", type="webhook", url=secret_url)
    assert isinstance(dest, WebhookDestination)
    hook = WebhookNotifier(dest, user_agent=UA, transport=httpx.MockTransport(explode))
    with pytest.raises(TransientDeliveryError) as caught:
        deliver(hook, make_alert())
    assert "very-secret-token" not in str(caught.value)
    assert "hooks.example.org" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_webhook_payload_is_exactly_the_spec_shape() -> None:
    """id, watch, matched, snippet, article{...,feed}, also: nothing more, nothing less."""
    assert webhook_payload(make_alert()) == {
        "id": "al_9f8e7d6c5b4a",
        "watch": "belarus",
        "matched": [
            {"term": "Lukashenko", "field": "title"},
            {"term": "Belarus", "field": "title"},
            {"term": "Lukashenko", "field": "summary"},
        ],
        "snippet": "…results give Alexander Lukashenko a seventh term…",
        "article": {
            "title": "Lukashenko claims victory in Belarus",
            "url": "https://news.example.org/2026/11/24/lukashenko-victory?id=1&lang=en",
            "published": "2026-11-24T10:00:00Z",
            "summary": "Official results give Alexander Lukashenko a seventh term.",
            "author": "Jane Reporter",
            "feed": {"name": "Example World", "url": "https://www.example.org/world/rss.xml"},
        },
        "also": [
            {
                "title": "Lukashenko wins again",
                "url": "https://other.example.net/story/42",
                "feed": {"name": "Other News", "url": "https://other.example.net/feed.xml"},
            }
        ],
    }


def test_webhook_matched_lists_each_term_and_field_once() -> None:
    """Several hits of one term in one field give one matched entry."""
    hits = (
        Hit("Belarus", "summary", 0, 7, "Belarus"),
        Hit("Belarus", "summary", 20, 27, "BELARUS"),
    )
    assert webhook_payload(make_alert(matched=hits))["matched"] == [
        {"term": "Belarus", "field": "summary"}
    ]


def test_webhook_published_in_utc_with_z_or_null() -> None:
    """published is converted to UTC 'Z' form, and is null when unknown."""
    east = datetime.fromisoformat("2026-11-24T13:00:00+03:00")
    assert webhook_payload(make_alert(published=east))["article"]["published"] == (
        "2026-11-24T10:00:00Z"
    )
    assert webhook_payload(make_alert(published=None))["article"]["published"] is None


def test_webhook_drops_non_http_links() -> None:
    """A javascript: article link is sent as null, never as a URL."""
    payload = webhook_payload(make_alert(link="javascript:alert(1)"))
    assert payload["article"]["url"] is None
