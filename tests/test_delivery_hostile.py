"""Hostile feed text through every destination, end to end through the outbox: nothing
live reaches the other side — no Slack mention or forged link, no extra mail header, no
HTML or script, no javascript: link — with the built-in format and with user templates
that try to turn escaping off."""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path

import pytest

from newswatch.models import DeliveryState
from newswatch.pipeline.deliver import deliver_all
from support.outbox import make_settings, runtime, seed, states
from support.receivers import SmtpServer, WebhookReceiver

TITLE = "<!channel> Lukashenko <script>alert(1)</script>\r\nBcc: victim@example.org <@U0123>"
SUMMARY = "Read <https://evil.example|this> & <!here> \x1b[31mred\x1b[0m <img src=x onerror=1>"
LINK = "javascript:alert(document.cookie)"

TEMPLATES = {
    "slack": "template: '*{{ alert.title|safe }}* {{ alert.summary }} {{ alert.url }}'",
    "email": (
        "subject_template: '{{ alert.title|safe }}', "
        "text_template: '{{ alert.title }} {{ alert.url }}', "
        "html_template: '{% autoescape false %}<p>{{ alert.title|safe }}</p>"
        "{{ link(alert.url, alert.summary) }}{% endautoescape %}'"
    ),
    "console": "template: '{{ alert.title }} {{ alert.summary }}'",
}


def deliver_hostile(
    tmp_path: Path, templated: bool
) -> tuple[WebhookReceiver, WebhookReceiver, SmtpServer, str]:
    """Send one hostile alert to a webhook, Slack, email and the console."""
    out = io.StringIO()
    with WebhookReceiver() as hook, WebhookReceiver() as slack, SmtpServer() as smtp:
        extra = {k: (", " + v if templated else "") for k, v in TEMPLATES.items()}
        settings = make_settings(
            tmp_path,
            f"""
            - {{name: hook, type: webhook, url: '{hook.url}'}}
            - {{name: chat, type: slack, url: '{slack.url}'{extra["slack"]}}}
            - {{name: mail, type: email, to: [a@example.org], from: nw@example.org,
                host: 127.0.0.1, port: {smtp.port}, security: none{extra["email"]}}}
            - {{name: term, type: console{extra["console"]}}}
            """,
        )
        seed(settings, 1, title=TITLE, link=LINK, summary=SUMMARY)

        async def once() -> None:
            async with runtime(settings, stdout=out) as rt:
                await deliver_all(rt)

        asyncio.run(once())
        sent = [DeliveryState.SENT]
        assert states(settings) == {"hook": sent, "chat": sent, "mail": sent, "term": sent}
    return hook, slack, smtp, out.getvalue()


@pytest.mark.parametrize("templated", [False, True], ids=["built-in", "templates"])
def test_hostile_text_reaches_nobody_live(tmp_path: Path, templated: bool) -> None:
    """Every destination receives the alert, and none of the hostile text is live."""
    hook, slack, smtp, console = deliver_hostile(tmp_path, templated)

    body = hook.requests[0].json()
    assert body["article"]["title"] == TITLE  # data, JSON-escaped: the receiver escapes it
    assert body["article"]["url"] is None
    assert b"<script>" not in hook.requests[0].body  # ASCII JSON: < is \u003c

    message = json.dumps(slack.requests[0].json())
    for live in ("<!channel>", "<!here>", "<@U0123>", "<https://evil", "<script", "javascript:"):
        assert live not in message
    assert "&lt;!channel&gt;" in message

    (mail,) = smtp.messages
    msg = mail.message
    assert mail.rcpt_tos == ["a@example.org"]
    assert "Bcc" not in msg and "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
    html_part = msg.get_body(("html",))
    assert html_part is not None
    html = html_part.get_content()
    assert "<script" not in html and "<img" not in html and "javascript:" not in html
    assert "&lt;script&gt;" in html
    text_part = msg.get_body(("plain",))
    assert text_part is not None and "javascript:" not in text_part.get_content()

    assert "\x1b" not in console and "\r" not in console and "javascript:" not in console
    assert re.search(r"Lukashenko", console)
    # The templates were really used (a failing template would fall back to the built-in).
    assert ("Matched:" not in message) is templated
    assert ("feed:" not in console) is templated
    assert msg["Subject"].startswith("[newswatch]") is not templated
