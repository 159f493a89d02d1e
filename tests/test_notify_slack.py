"""Slack: messages in which no feed text is live, and delivery against a loopback receiver
standing in for the incoming webhook."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from newswatch.config import SlackDestination
from newswatch.errors import PermanentDeliveryError, TransientDeliveryError
from newswatch.models import FeedRef, Hit, Sighting
from newswatch.notify import SlackNotifier
from newswatch.notify.slack import slack_message, slack_sections
from support.alerts import deliver, destination, make_alert
from support.receivers import Reply, WebhookReceiver

HOSTILE = "<!channel> <!here> <@U123> <http://evil.example|click> & <!subteam^S1>"


def slack_texts(message: dict[str, Any]) -> list[str]:
    """Every text string in a Slack message (fallback, sections, context elements)."""
    texts = [message["text"]]
    for block in message["blocks"]:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [element["text"] for element in block.get("elements", [])]
    return texts


def hostile_alert() -> Any:
    """An alert whose every feed-controlled text is hostile Slack markup."""
    return make_alert(
        title=HOSTILE,
        summary=HOSTILE,
        author=HOSTILE,
        snippet=f"before {HOSTILE} after Lukashenko",
        feed=FeedRef(HOSTILE, "https://www.example.org/rss"),
        also=(
            Sighting(HOSTILE, "https://other.example.net/1", FeedRef(HOSTILE, "https://x.example")),
        ),
    )


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


def test_slack_escapes_all_hostile_feed_text() -> None:
    """No <!channel>, <!here>, <@U…>, forged link or bare & survives in any Slack text."""
    texts = slack_texts(slack_message(hostile_alert()))
    joined = "\n".join(texts)
    for live in ("<!channel>", "<!here>", "<@U123>", "<http://evil", "<!subteam"):
        assert live not in joined
    assert "&lt;!channel&gt;" in joined
    assert re.search(r"&(?!amp;|lt;|gt;)", joined) is None
    # The only live links are the ones newswatch made from http(s) article URLs.
    links = re.findall(r"<([^>|]*)\|", joined)
    assert links == ["https://news.example.org/2026/11/24/lukashenko-victory?id=1&amp;lang=en",
                     "https://other.example.net/1"]  # fmt: skip


def test_slack_javascript_link_is_plain_text() -> None:
    """A javascript: article link renders the title without any link."""
    message = slack_message(make_alert(link="javascript:alert(1)", title="Click me"))
    assert message["blocks"][0]["text"]["text"] == "*Click me*"
    assert "javascript" not in json.dumps(message)


def test_slack_link_cannot_be_closed_early() -> None:
    """A | or > inside a URL is percent-encoded so it cannot end the link or its label."""
    message = slack_message(make_alert(link="https://example.org/a|<!channel>?x=1>2"))
    title = message["blocks"][0]["text"]["text"]
    assert title.startswith("*<https://example.org/a%7C%3C!channel%3E?x=1%3E2|")


def test_slack_bolds_the_first_hit_in_the_snippet() -> None:
    """The first matched text in the snippet is bold."""
    texts = slack_texts(slack_message(make_alert()))
    assert "…results give Alexander *Lukashenko* a seventh term…" in texts


def test_slack_hit_with_markup_is_bold_and_escaped() -> None:
    """A hit whose text is markup is escaped inside the bold marks."""
    alert = make_alert(
        snippet="see <!here> now", matched=(Hit("<!here>", "summary", 4, 11, "<!HERE>"),)
    )
    assert "see *&lt;!here&gt;* now" in slack_texts(slack_message(alert))


def test_slack_limits_hold_for_huge_text() -> None:
    """Huge feed text: every section within 3,000 chars, ≤ 50 blocks, total well under 12k."""
    huge = "&<>" * 40_000
    sightings = tuple(
        Sighting(huge, f"https://x.example/{i}?" + "a=1&" * 500, FeedRef(huge, "https://x.example"))
        for i in range(500)
    )
    hits = tuple(Hit(f"term{i}", "content", i, i + 5, f"term{i}") for i in range(5000))
    alert = make_alert(
        title=huge, snippet=huge + " term3 " + huge, summary=huge, also=sightings, matched=hits,
        feed=FeedRef(huge, "https://x.example"), watch="w" * 200,
    )  # fmt: skip
    message = slack_message(alert)
    texts = slack_texts(message)
    assert len(message["blocks"]) <= 50
    assert all(len(t) <= 3000 for t in texts)
    assert sum(map(len, texts)) < 10_000
    assert texts[1].endswith("…>*")  # the cut title, still a bold link
    assert "*term3*" in texts[4]  # the hit survives in the middle of a cut snippet


def test_slack_sections_respect_limits_and_never_cut_a_link() -> None:
    """Long template output is split per paragraph, each section within 3,000 characters,
    never ending inside a <link|label> or an &entity;."""
    link = "<https://example.org/x|label>"
    text = "\n\n".join(["a" * 2990 + link, "b" * 2996 + "&amp;", "c"])
    blocks = slack_sections(text)
    texts = [b["text"]["text"] for b in blocks]
    assert texts[0] == "a" * 2990 + "…" and texts[1] == "b" * 2996 + "…"
    assert texts[2] == "c" and all(len(t) <= 3000 for t in texts)
