"""End to end through the CLI: OPML files in and out, per-feed options (enabled, headers,
user agent) seen by the loopback feed server, and an apprise destination (its json://
plugin) that fails, then recovers, and is delivered once."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import defusedxml.ElementTree as SafeET
import pytest

from support.cli import Daemon, newswatch
from support.feeds import Item, rss
from support.feedserver import FeedServer
from support.receivers import Reply, WebhookReceiver

STORY = Item("s1", "Lukashenko leaked documents", "https://n.example/s1")
TOKEN = "s3cr3t-token"


def opml(*outlines: str) -> str:
    body = "\n".join(outlines)
    return f'<?xml version="1.0"?>\n<opml version="2.0"><head/><body>\n{body}\n</body></opml>\n'


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with FeedServer() as server:
        for path in ("/yaml", "/nested", "/dup", "/off"):
            server.add(path, rss(path, [STORY]))
        yield server


def write(tmp: Path, feeds: FeedServer, hook: WebhookReceiver | None = None) -> Path:
    (tmp / "subs.opml").write_text(
        opml(
            f'<outline text="Wire" xmlUrl="{feeds.url("/yaml")}"/>',
            '<outline text="Folder"><outline text="Deep">',
            f'  <outline text="Nested" type="rss" xmlUrl="{feeds.url("/nested")}"/>',
            "</outline></outline>",
            f'<outline title="Dup" xmlUrl="{feeds.url("/dup")}"/>',
            f'<outline text="Dup again" xmlUrl="{feeds.url("/dup")}"/>',
        )
    )
    dest = "  - {name: term, type: console}"
    if hook is not None:
        url = hook.url.replace("http://", "json://")
        dest = f"  - {{name: phones, type: apprise, urls: ['{url}'], backoff: 1s}}"
    config = tmp / "watchlist.yaml"
    config.write_text(
        textwrap.dedent(f"""\
        database: state.db
        poll: {{interval: 1m, timeout: 10s, first_run: all, user_agent: "analyst-bot/2"}}
        opml: [subs.opml]
        feeds:
          - url: {feeds.url("/yaml")}
            name: YAML name
            headers: {{Authorization: "Bearer ${{FEED_TOKEN}}"}}
          - url: {feeds.url("/off")}
            enabled: false
        watches:
          - name: belarus
            keywords: [Lukashenko]
            feeds: [YAML name, Nested, Dup, {feeds.url("/off")}]
        destinations:
        """)
        + dest
        + "\n"
    )
    return config


def test_check_lists_opml_feeds_once_and_masks_secrets(tmp_path: Path, feeds: FeedServer) -> None:
    """check: OPML feeds merged by URL (YAML name wins), nested ones flattened, duplicates
    once; the header value and the apprise URL never printed."""
    with WebhookReceiver() as hook:
        result = newswatch(write(tmp_path, feeds, hook), "check", FEED_TOKEN="tok-9876")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "feeds: 4 (1 disabled)" in out
    assert "YAML name:" in out and "headers Authorization" in out
    assert "Nested:" in out and "Dup:" in out and "Dup again" not in out
    assert "Wire" not in out
    assert "phones: apprise json://…" in out
    assert "tok-9876" not in out and TOKEN not in out and "/hook/" not in out


def test_broken_opml_is_a_config_error_at_its_line(tmp_path: Path, feeds: FeedServer) -> None:
    """A malformed OPML file: exit 2 and ``file:line:col``."""
    config = write(tmp_path, feeds)
    (tmp_path / "subs.opml").write_text('<opml version="2.0"><body>\n<outline text="x"\n</body>')
    result = newswatch(config, "check", FEED_TOKEN="t")
    assert result.returncode == 2
    assert f"{tmp_path / 'subs.opml'}:3:" in result.stderr


def test_opml_with_entities_is_refused(tmp_path: Path, feeds: FeedServer) -> None:
    """An OPML file that declares entities is refused, never expanded."""
    config = write(tmp_path, feeds)
    (tmp_path / "subs.opml").write_text(
        '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaa">]>'
        '<opml version="2.0"><body><outline text="&a;" xmlUrl="https://x.example/"/></body></opml>'
    )
    result = newswatch(config, "check", FEED_TOKEN="t")
    assert result.returncode == 2
    assert "entities" in result.stderr


def test_export_parses_back_to_every_configured_feed(tmp_path: Path, feeds: FeedServer) -> None:
    """``opml export`` is OPML 2.0 listing each feed once, with its configured name."""
    result = newswatch(write(tmp_path, feeds), "opml", "export", FEED_TOKEN="tok-9876")
    assert result.returncode == 0, result.stderr
    root = SafeET.fromstring(result.stdout)
    assert root.tag == "opml" and root.get("version") == "2.0"
    found = {o.get("xmlUrl"): o.get("text") for o in root.iter("outline")}
    assert found == {
        feeds.url("/yaml"): "YAML name",
        feeds.url("/off"): feeds.url("/off"),
        feeds.url("/nested"): "Nested",
        feeds.url("/dup"): "Dup",
    }
    assert "tok-9876" not in result.stdout


def test_run_once_polls_opml_feeds_sends_headers_skips_disabled(
    tmp_path: Path, feeds: FeedServer
) -> None:
    """run --once: OPML feeds polled; the disabled feed never requested; the feed's headers
    and poll.user_agent reach the server; status shows the disabled feed as disabled."""
    config = write(tmp_path, feeds)
    result = newswatch(config, "run", "--once", FEED_TOKEN="tok-9876")
    assert result.returncode == 0, result.stderr
    assert feeds.count("/off") == 0
    assert feeds.count("/nested") == 1 and feeds.count("/dup") == 1
    seen = feeds.last("/yaml").headers
    assert seen["authorization"] == "Bearer tok-9876"
    assert seen["user-agent"] == "analyst-bot/2"
    assert "authorization" not in feeds.last("/nested").headers
    assert "tok-9876" not in result.stderr
    status = newswatch(config, "status", FEED_TOKEN="tok-9876")
    (line,) = [row for row in status.stdout.splitlines() if "/off" in row]
    assert "disabled" in line


def test_apprise_fails_then_recovers_and_delivers_once(tmp_path: Path, feeds: FeedServer) -> None:
    """json:// receiver answers 500 first: the alert stays pending, is retried on the next
    run and delivered once; no secret in the logs, even with --verbose."""
    with WebhookReceiver(default=Reply(200)) as hook:
        hook.script(Reply(500))
        config = write(tmp_path, feeds, hook)
        first = newswatch(config, "--verbose", "run", "--once", FEED_TOKEN="tok-9876")
        assert first.returncode == 0, first.stderr
        assert "Deliveries: 0 sent, 1 failed" in first.stderr
        time.sleep(1.2)
        second = newswatch(config, "--verbose", "run", "--once", FEED_TOKEN="tok-9876")
        time.sleep(0.1)
        third = newswatch(config, "run", "--once", FEED_TOKEN="tok-9876")
        delivered = [r for r in hook.requests if r.json()["title"].startswith("[newswatch]")]
    # The same article in three feeds is one alert: one failed attempt, then one delivery.
    assert len(delivered) == 2
    assert "Deliveries: 1 sent, 0 failed" in second.stderr
    (ok,) = [r.json() for r in delivered[1:]]
    assert ok["title"] == f"[newswatch] belarus: {STORY.title}"
    assert "Matched: Lukashenko (title)" in ok["message"]
    for run in (first, second, third):
        assert TOKEN not in run.stderr and "/hook/" not in run.stderr
        assert "tok-9876" not in run.stderr
    alerts = newswatch(config, "alerts", FEED_TOKEN="tok-9876")
    assert TOKEN not in alerts.stdout and "/hook/" not in alerts.stdout


@pytest.mark.slow
def test_daemon_rereads_opml_when_it_changes(tmp_path: Path, feeds: FeedServer) -> None:
    """An edit of the OPML file alone reloads the daemon; a feed added there is polled."""
    feeds.add("/later", rss("Later", [Item("l1", "Lukashenko later", "https://n.example/l1")]))
    config = write(tmp_path, feeds)
    text = config.read_text().replace(
        f"feeds: [YAML name, Nested, Dup, {feeds.url('/off')}]", "feeds: null"
    )
    config.write_text(text)
    daemon = Daemon(config, FEED_TOKEN="tok")
    try:
        feeds.wait_for("/nested", 1)
        mark = len(daemon.lines)
        subs = tmp_path / "subs.opml"
        subs.write_text(
            subs.read_text().replace(
                "</body>", f'<outline text="Later" xmlUrl="{feeds.url("/later")}"/></body>'
            )
        )
        daemon.wait_for_log("configuration reloaded", after=mark)
        feeds.wait_for("/later", 1)
    finally:
        assert daemon.stop() == 0
    assert feeds.count("/off") == 0
