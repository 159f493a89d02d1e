"""From a match to what a destination shows: the matched terms and the snippet with the
hit marked, also when the hit is an inflected form of the watch's word."""

from __future__ import annotations

from newswatch.config import Settings
from newswatch.match import compile_watchlist
from newswatch.models import Alert, Article
from newswatch.notify.console import console_text
from newswatch.notify.email import email_message
from newswatch.notify.slack import slack_message
from newswatch.notify.webhook import webhook_payload
from support.alerts import make_alert


def belarus_alert() -> Alert:
    settings = Settings(
        terms={"belarus": ["Беларусь", "Белоруссия"]},
        watches=[{"name": "belarus", "keywords": ["@belarus"], "languages": ["ru"]}],
    )
    article = Article(
        feed_url="https://f.example/rss",
        entry_key="1",
        link="https://f.example/1",
        link_key="https://f.example/1",
        title="Новые санкции",
        summary="Евросоюз ввёл новые санкции против Белоруссии из-за выборов.",
    )
    (match,) = compile_watchlist(settings).match(article)
    return make_alert(
        title=article.title, summary=article.summary, matched=match.hits, snippet=match.snippet
    )


def test_every_destination_marks_the_inflected_hit() -> None:
    """Slack bolds, email highlights and the console stars the form that occurs."""
    alert = belarus_alert()
    slack = str(slack_message(alert))
    assert "*Белоруссии*" in slack
    html = email_message(alert, "nw@example.org", ["a@example.org"]).get_body(("html",))
    assert html is not None and "<mark>Белоруссии</mark>" in html.get_content()
    assert "**Белоруссии**" in console_text(alert)


def test_webhook_reports_the_term_as_written() -> None:
    """The webhook payload names the watch's term and the field it was found in."""
    payload = webhook_payload(belarus_alert())
    assert payload["matched"] == [{"term": "Белоруссия", "field": "summary"}]
    assert "Белоруссии" in payload["snippet"]
