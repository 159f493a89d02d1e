"""Slack delivery against a loopback receiver standing in for the incoming webhook."""

from __future__ import annotations

import pytest

from newswatch.config import SlackDestination
from newswatch.errors import PermanentDeliveryError, TransientDeliveryError
from newswatch.notify import SlackNotifier
from newswatch.notify.render import slack_message
from support.alerts import deliver, destination, make_alert
from support.receivers import Reply, WebhookReceiver


def notifier(url: str) -> SlackNotifier:
    """A Slack notifier whose incoming-webhook URL is ``url``."""
    dest = destination(name="team-slack", type="slack", url=url)
    assert isinstance(dest, SlackDestination)
    return SlackNotifier(dest, user_agent="newswatch/test", timeout=5.0)


def test_posts_the_slack_message_as_json() -> None:
    """The body is the rendered message, sent as JSON, and 200 ok is accepted."""
    alert = make_alert()
    with WebhookReceiver() as slack:
        deliver(notifier(slack.url), alert)
    (request,) = slack.requests
    assert request.header("Content-Type") == "application/json"
    assert request.json() == slack_message(alert)


def test_hostile_title_arrives_escaped() -> None:
    """A title trying to ping the channel reaches Slack with its brackets escaped."""
    with WebhookReceiver() as slack:
        deliver(notifier(slack.url), make_alert(title="<!channel> read this & <@U1>"))
    text = slack.requests[0].json()["text"]
    assert text == "[belarus] &lt;!channel&gt; read this &amp; &lt;@U1&gt;"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, b"invalid_payload"),
        (403, b"action_prohibited"),
        (404, b"no_service"),
        (410, b"channel_is_archived"),
    ],
)
def test_slack_refusals_are_permanent_and_say_why(status: int, body: bytes) -> None:
    """Slack's 400/403/404/410 are permanent, and the error carries Slack's reason."""
    with WebhookReceiver() as slack:
        slack.script(Reply(status, body=body))
        with pytest.raises(PermanentDeliveryError, match=body.decode()):
            deliver(notifier(slack.url), make_alert())


def test_rate_limited_is_transient_with_retry_after() -> None:
    """429 with Retry-After: 30 asks to come back in 30 s."""
    with WebhookReceiver() as slack:
        slack.script(Reply(429, {"Retry-After": "30"}, b"rate_limited"))
        with pytest.raises(TransientDeliveryError) as caught:
            deliver(notifier(slack.url), make_alert())
    assert caught.value.retry_after == 30.0


def test_error_text_hides_the_webhook_url() -> None:
    """The webhook URL is the credential: neither it nor its token path is in the error."""
    with WebhookReceiver(path="/services/T0AAA/B0BBB/XyZsecretXyZ") as slack:
        slack.script(Reply(404, body=b"no_service"))
        with pytest.raises(PermanentDeliveryError) as caught:
            deliver(notifier(slack.url), make_alert())
    assert "XyZsecretXyZ" not in str(caught.value)
    assert slack.url not in str(caught.value)
