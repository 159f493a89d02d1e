"""Monitoring (SPEC §8): /metrics scraped from a running daemon and parsed with
prometheus_client's own parser; /healthz 200 while polling makes progress, 503 with the
reason when a feed's poll is overdue; a port in use is a clear startup error."""

from __future__ import annotations

import json
import socket
import textwrap
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from newswatch.app.daemon import Daemon
from newswatch.app.metrics import Metrics, MetricsServer
from newswatch.config import MetricsSettings, Settings
from support.cli import Daemon as DaemonProcess
from support.cli import newswatch
from support.feeds import Item, rss
from support.feedserver import FeedServer
from support.receivers import WebhookReceiver, free_port

STORY = Item(guid="1", title="Lukashenko speaks", link="https://n.example/1")
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def get(url: str) -> tuple[int, str]:
    """Status and body of a GET (4xx/5xx included)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text document, by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def config_text(feeds: FeedServer, hook: WebhookReceiver, port: int) -> str:
    return textwrap.dedent(f"""\
        database: state.db
        poll: {{interval: 1s, timeout: 5s, first_run: all}}
        feeds:
          - url: {feeds.url("/rss")}
            name: Wire
          - url: {feeds.url("/broken")}
        watches: [{{name: belarus, keywords: [Lukashenko]}}]
        destinations: [{{name: hook, type: webhook, url: "{hook.url}"}}]
        metrics: {{listen: "127.0.0.1:{port}"}}
        """)


@pytest.mark.slow
def test_metrics_scraped_from_a_running_daemon(tmp_path: Path) -> None:
    """The SPEC's metrics, with their labels, after a poll that alerted and delivered."""
    port = free_port()
    with FeedServer() as feeds, WebhookReceiver() as hook:
        feeds.add("/rss", rss("Wire", [STORY]), etag='"v1"')
        config = tmp_path / "watchlist.yaml"
        config.write_text(config_text(feeds, hook, port))
        daemon = DaemonProcess(config)
        try:
            hook.wait_for(1, timeout=15)
            feeds.wait_for("/rss", 2)  # the second poll: 304
            feeds.wait_for("/broken", 2)
            time.sleep(0.5)
            status, text = get(f"http://127.0.0.1:{port}/metrics")
            health = get(f"http://127.0.0.1:{port}/healthz")
        finally:
            assert daemon.stop() == 0
    assert status == 200
    found = samples(text)

    def value(name: str, **labels: str) -> float:
        return found[(name, tuple(sorted(labels.items())))]

    polls = "newswatch_feed_polls_total"
    assert value(polls, feed="Wire", outcome="ok") == 1
    assert value(polls, feed="Wire", outcome="not_modified") >= 1
    assert value(polls, feed=feeds.url("/broken"), outcome="error") >= 1
    assert value("newswatch_articles_new_total", feed="Wire") == 1
    last = value("newswatch_feed_last_success_timestamp_seconds", feed="Wire")
    assert abs(last - time.time()) < 60
    assert value("newswatch_deliveries_total", destination="hook", outcome="sent") == 1
    assert value("newswatch_alerts_total", watch="belarus") == 1
    assert value("newswatch_outbox_pending", destination="hook") == 0
    assert health == (200, json.dumps({"status": "ok"}))


def test_healthz_is_503_with_the_reason_when_a_poll_is_overdue() -> None:
    """A feed whose next poll was due more than the grace period ago makes /healthz 503."""
    settings = Settings(
        feeds=[{"url": "https://a.example/rss", "name": "A"}, {"url": "https://b.example/rss"}],
        metrics={"listen": "127.0.0.1:0"},
    )
    clock = [NOW]
    daemon = Daemon(Path("w.yaml"), settings, {}, clock=lambda: clock[0])
    daemon.due = {"https://a.example/rss": NOW + timedelta(seconds=30)}
    daemon.due["https://b.example/rss"] = NOW - timedelta(minutes=5)
    assert settings.metrics is not None
    server = MetricsServer(settings.metrics, Metrics(), daemon.health_problem)
    server.start()
    try:
        late = get(f"http://127.0.0.1:{server.port}/healthz")
        daemon.due["https://b.example/rss"] = NOW + timedelta(seconds=10)
        fine = get(f"http://127.0.0.1:{server.port}/healthz")
        del daemon.due["https://a.example/rss"]  # no next poll at all: dropped out
        dropped = get(f"http://127.0.0.1:{server.port}/healthz")
    finally:
        server.stop()
    assert late == (
        503,
        json.dumps({"status": "unhealthy", "reason": "1 feed overdue: https://b.example/rss"}),
    )
    assert fine == (200, json.dumps({"status": "ok"}))
    assert dropped[0] == 503 and "1 feed overdue: A" in dropped[1]


def test_metrics_port_in_use_is_a_clear_startup_error(tmp_path: Path) -> None:
    """`run` exits 1 naming the address when metrics.listen is taken."""
    with socket.socket() as taken, FeedServer() as feeds, WebhookReceiver() as hook:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / "watchlist.yaml"
        config.write_text(config_text(feeds, hook, port))
        result = newswatch(config, "run", timeout=30)
    assert result.returncode == 1
    assert f"metrics: cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr


def test_metrics_settings_need_host_and_port() -> None:
    """A listen address without a port is refused."""
    with pytest.raises(ValueError, match="is not HOST:PORT"):
        MetricsSettings(listen="localhost")
    assert MetricsSettings(listen="[::1]:9184").host == "::1"
