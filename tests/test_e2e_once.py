"""End to end through the CLI: real feed server, webhook and Slack receivers, SMTP server,
SQLite file — `newswatch run --once` alerts once per article and never twice."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from support.cli import newswatch
from support.feeds import Item, atom, rss
from support.feedserver import FeedServer
from support.receivers import SmtpServer, WebhookReceiver

STORY = Item(
    guid="story-1",
    title="Leaked documents show Lukashenko planned the vote",
    link="https://news.example/belarus/leak",
    summary="Papers seen by reporters in Minsk.",
)
OTHER = Item(guid="other-1", title="Weather: snow expected", link="https://news.example/weather")


class World:
    """The servers one end-to-end test talks to, and its config file."""

    def __init__(
        self,
        tmp: Path,
        feeds: FeedServer,
        hook: WebhookReceiver,
        slack: WebhookReceiver,
        smtp: SmtpServer,
    ) -> None:
        self.tmp, self.feeds, self.hook, self.slack, self.smtp = tmp, feeds, hook, slack, smtp
        self.config = tmp / "watchlist.yaml"

    def write_config(self, *, extra_feeds: str = "") -> None:
        self.config.write_text(
            textwrap.dedent(f"""\
            database: state.db
            poll: {{interval: 1m, timeout: 10s, first_run: all}}
            feeds:
              - url: {self.feeds.url("/rss")}
                name: Wire RSS
              - url: {self.feeds.url("/atom")}
            {extra_feeds}
            watches:
              - name: belarus
                keywords: [Lukashenko, "leaked documents"]
                exclude: [hockey]
            destinations:
              - name: ops-hook
                type: webhook
                url: {self.hook.url}
                secret: ${{HOOK_SECRET}}
                headers: {{Authorization: "Bearer ${{HOOK_TOKEN}}"}}
              - name: team-slack
                type: slack
                url: ${{SLACK_URL}}
              - name: analysts
                type: email
                to: [analyst@example.org]
                from: newswatch@example.org
                host: 127.0.0.1
                port: {self.smtp.port}
                security: none
            """)
        )

    def run_once(self) -> str:
        result = newswatch(
            self.config,
            "run",
            "--once",
            HOOK_SECRET="s3cret",
            HOOK_TOKEN="t0ken",
            SLACK_URL=self.slack.url,
        )
        assert result.returncode == 0, result.stderr
        return result.stderr


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with (
        FeedServer() as feeds,
        WebhookReceiver() as hook,
        WebhookReceiver("/services/T1/B1/slacktoken") as slack,
        SmtpServer() as smtp,
    ):
        feeds.add("/rss", rss("Wire RSS", [STORY, OTHER]), etag='"rss-v1"')
        feeds.add("/atom", atom("Atom Desk", [OTHER]), etag='"atom-v1"')
        w = World(tmp_path, feeds, hook, slack, smtp)
        w.write_config()
        yield w


def test_one_matching_article_gives_one_alert_per_destination(world: World) -> None:
    """One matching article -> exactly one webhook POST, one Slack message, one email."""
    world.run_once()
    (post,) = world.hook.requests
    payload = post.json()
    assert payload["watch"] == "belarus"
    assert payload["article"]["title"] == STORY.title
    assert payload["article"]["feed"] == {"name": "Wire RSS", "url": world.feeds.url("/rss")}
    assert {m["term"] for m in payload["matched"]} == {"Lukashenko", "leaked documents"}
    assert post.header("Idempotency-Key") == payload["id"]
    assert post.header("Authorization") == "Bearer t0ken"
    assert post.header("X-Newswatch-Signature").startswith("sha256=")
    (slack_post,) = world.slack.requests
    assert "Lukashenko" in slack_post.json()["text"]
    (mail,) = world.smtp.messages
    assert mail.message["Subject"] == f"[newswatch] belarus: {STORY.title}"


def test_second_run_is_conditional_and_alerts_nothing(world: World) -> None:
    """A second run sends If-None-Match, gets 304 and delivers nothing new."""
    world.run_once()
    output = world.run_once()
    assert world.feeds.last("/rss").headers.get("if-none-match") == '"rss-v1"'
    assert "2 not modified" in output
    assert len(world.hook.requests) == 1
    assert len(world.slack.requests) == 1
    assert len(world.smtp.messages) == 1


def test_same_article_with_tracking_link_in_another_feed_is_not_new(world: World) -> None:
    """The story met again under a utm-tagged link in a third feed alerts nobody."""
    world.run_once()
    copy = Item(
        guid="elsewhere-77",
        title=STORY.title,
        link=STORY.link + "?utm_source=rss&utm_medium=feed#comments",
    )
    world.feeds.add("/other", rss("Aggregator", [copy]))
    world.write_config(extra_feeds=f"  - url: {world.feeds.url('/other')}")
    output = world.run_once()
    assert world.feeds.count("/other") == 1
    assert "0 new alerts." in output
    assert len(world.hook.requests) == 1


def test_new_item_in_later_poll_alerts(world: World) -> None:
    """An item added after the first run is alerted on the next run."""
    world.run_once()
    later = Item(guid="story-2", title="Lukashenko replies", link="https://news.example/reply")
    world.feeds.add("/rss", rss("Wire RSS", [later, STORY, OTHER]), etag='"rss-v2"')
    world.run_once()
    assert [r.json()["article"]["title"] for r in world.hook.requests] == [STORY.title, later.title]


def test_unreachable_destination_keeps_alert_pending_until_it_accepts(tmp_path: Path) -> None:
    """A 503 leaves the alert pending; `alerts --state pending` lists it; the next run
    delivers it once the receiver accepts (nothing is lost)."""
    from support.receivers import Reply

    with FeedServer() as feeds, WebhookReceiver() as hook:
        feeds.add("/rss", rss("Wire", [STORY]))
        config = tmp_path / "w.yaml"
        config.write_text(
            textwrap.dedent(f"""\
            database: state.db
            poll: {{first_run: all}}
            feeds: [{{url: "{feeds.url("/rss")}"}}]
            watches: [{{name: belarus, keywords: [Lukashenko]}}]
            destinations: [{{name: hook, type: webhook, url: "{hook.url}"}}]
            """)
        )
        hook.script(Reply(503, headers={"Retry-After": "0"}))
        assert newswatch(config, "run", "--once").returncode == 0
        listed = newswatch(config, "alerts", "--state", "pending")
        assert "pending" in listed.stdout and STORY.title in listed.stdout
        assert "HTTP 503" in listed.stdout
        _make_due(tmp_path / "state.db")
        assert newswatch(config, "run", "--once").returncode == 0
        assert len(hook.requests) == 2
        assert hook.requests[0].header("Idempotency-Key") == hook.requests[1].header(
            "Idempotency-Key"
        )
        assert "sent" in newswatch(config, "alerts", "--state", "sent").stdout


def _make_due(db: Path) -> None:
    """Move every pending delivery's next attempt, and the end of every destination's
    pause, into the past (instead of waiting)."""
    import sqlite3

    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE deliveries SET next_attempt_at = ? WHERE state = 'pending'", [past])
        conn.execute("UPDATE destination_state SET paused_until = ?", [past])


def test_status_shows_each_feed(world: World) -> None:
    """`status` prints one line per feed with its HTTP status and items seen."""
    world.run_once()
    result = newswatch(
        world.config, "status", HOOK_SECRET="x", HOOK_TOKEN="x", SLACK_URL="http://127.0.0.1/x"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["FEED", "STATE", "LAST"]
    wire = next(line for line in lines if line.startswith("Wire RSS"))
    assert " 200 " in wire
    as_json = newswatch(
        world.config,
        "status",
        "--json",
        HOOK_SECRET="x",
        HOOK_TOKEN="x",
        SLACK_URL="http://127.0.0.1/x",
    )
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert {r["url"] for r in rows} == {world.feeds.url("/rss"), world.feeds.url("/atom")}
    assert all(r["error_streak"] == 0 for r in rows)
    assert sum(r["items_seen"] for r in rows) == 2  # STORY, and OTHER once across both feeds


def test_feed_credentials_never_leave_in_payloads_mail_or_alerts(tmp_path: Path) -> None:
    """A feed URL's user info and query (``https://user:pw@host/feed?apikey=…``) reach
    neither the webhook payload, nor the mail, nor ``alerts``: the feed goes out redacted,
    as in logs, also when its name falls back to its URL."""
    with FeedServer() as feeds, WebhookReceiver() as hook, SmtpServer() as smtp:
        feeds.add("/rss?apikey=K3Y", rss("", [STORY]))
        secret_url = feeds.url("/rss?apikey=K3Y").replace("://", "://reader:pa55word@")
        config = tmp_path / "w.yaml"
        config.write_text(
            textwrap.dedent(f"""\
            database: state.db
            poll: {{first_run: all}}
            feeds: [{{url: "{secret_url}"}}]
            watches: [{{name: belarus, keywords: [Lukashenko]}}]
            destinations:
              - {{name: hook, type: webhook, url: "{hook.url}"}}
              - {{name: mail, type: email, to: [a@example.org], from: nw@example.org,
                  host: 127.0.0.1, port: {smtp.port}, security: none}}
            """)
        )
        assert newswatch(config, "run", "--once").returncode == 0
        listed = newswatch(config, "alerts", "--json").stdout + newswatch(config, "alerts").stdout
    (post,) = hook.requests
    shown = feeds.url("/rss") + "?…"
    assert post.json()["article"]["feed"] == {"name": shown, "url": shown}
    (mail,) = smtp.messages
    for where in (post.body.decode(), mail.data.decode(), listed):
        assert "pa55word" not in where and "K3Y" not in where and "reader" not in where
    assert shown in mail.message.get_body(("plain",)).get_content()
