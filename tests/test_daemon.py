"""`newswatch run` as a real subprocess: polls, alerts, reloads, survives bad edits, stops."""

from __future__ import annotations

import os
import signal
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.cli import Daemon
from support.feeds import Item, rss
from support.feedserver import FeedServer
from support.receivers import WebhookReceiver

pytestmark = pytest.mark.slow

FIRST = Item(guid="1", title="Lukashenko speaks", link="https://n.example/1")


def config_text(
    feeds: FeedServer, hook: WebhookReceiver, keywords: str, extra_feed: str = ""
) -> str:
    return textwrap.dedent(f"""\
        database: state.db
        poll: {{interval: 1s, timeout: 5s, first_run: all}}
        feeds:
          - url: {feeds.url("/rss")}
        {extra_feed}
        watches:
          - name: belarus
            keywords: {keywords}
        destinations:
          - name: hook
            type: webhook
            url: {hook.url}
        """)


def replace_file(path: Path, text: str) -> None:
    """Save like an editor that writes a temporary file and renames it over the original."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def titles(hook: WebhookReceiver) -> list[str]:
    return [r.json()["article"]["title"] for r in hook.requests]


@pytest.fixture
def servers() -> Iterator[tuple[FeedServer, WebhookReceiver]]:
    with FeedServer() as feeds, WebhookReceiver() as hook:
        feeds.add("/rss", rss("Wire", [FIRST]), etag='"v1"')
        yield feeds, hook


def test_daemon_alerts_reloads_survives_bad_edit_and_stops(
    tmp_path: Path, servers: tuple[FeedServer, WebhookReceiver]
) -> None:
    """New items alert; a saved edit applies; a broken edit keeps the last good config;
    SIGTERM exits 0."""
    feeds, hook = servers
    config = tmp_path / "watchlist.yaml"
    config.write_text(config_text(feeds, hook, "[Lukashenko]"))
    daemon = Daemon(config)
    try:
        hook.wait_for(1, timeout=15)
        second = Item(guid="2", title="Lukashenko again", link="https://n.example/2")
        feeds.add("/rss", rss("Wire", [second, FIRST]), etag='"v2"')
        hook.wait_for(2, timeout=15)

        mark = len(daemon.lines)
        replace_file(config, config_text(feeds, hook, "[Lukashenko, Minsk]"))
        daemon.wait_for_log("configuration reloaded", after=mark)
        minsk = Item(guid="3", title="Protest in Minsk", link="https://n.example/3")
        feeds.add("/rss", rss("Wire", [minsk, second, FIRST]), etag='"v3"')
        hook.wait_for(3, timeout=15)

        mark = len(daemon.lines)
        replace_file(config, "watches:\n  - name: [oops\n")
        error = daemon.wait_for_log("keeping the last good one", after=mark)
        assert f"{config}:" in error
        late = Item(guid="4", title="Minsk and Lukashenko", link="https://n.example/4")
        feeds.add("/rss", rss("Wire", [late, minsk, second, FIRST]), etag='"v4"')
        hook.wait_for(4, timeout=15)
        assert daemon.proc.poll() is None
    finally:
        code = daemon.stop()
    assert code == 0
    assert titles(hook) == [FIRST.title, second.title, minsk.title, late.title]
    later = [r for r in feeds.requests if r.path == "/rss"][1:]
    assert later and all(r.headers.get("if-none-match") for r in later)  # conditional GETs


def test_sighup_reloads_and_new_feed_is_polled(
    tmp_path: Path, servers: tuple[FeedServer, WebhookReceiver]
) -> None:
    """SIGHUP reloads the config; a feed added by the edit starts being polled."""
    feeds, hook = servers
    feeds.add("/extra", rss("Extra", [Item("x1", "Lukashenko abroad", "https://n.example/x1")]))
    config = tmp_path / "watchlist.yaml"
    config.write_text(config_text(feeds, hook, "[Lukashenko]"))
    daemon = Daemon(config)
    try:
        hook.wait_for(1, timeout=15)
        # Same size and a restored mtime: only the signal can tell the daemon.
        stat = config.stat()
        text = config_text(feeds, hook, "[Lukashenko]", f"  - url: {feeds.url('/extra')}")
        config.write_text(text)
        os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        mark = len(daemon.lines)
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for_log("configuration reloaded", after=mark)
        hook.wait_for(2, timeout=15)
    finally:
        assert daemon.stop() == 0
    assert sorted(titles(hook)) == sorted([FIRST.title, "Lukashenko abroad"])


def test_sigterm_during_slow_poll_exits_promptly(tmp_path: Path) -> None:
    """A poll stuck on a slow server does not hold up SIGTERM beyond ~10 s."""
    with FeedServer() as feeds, WebhookReceiver() as hook:
        feeds.add("/rss", rss("Slow", [FIRST]), drip=0.5)
        config = tmp_path / "watchlist.yaml"
        config.write_text(
            config_text(feeds, hook, "[Lukashenko]").replace("timeout: 5s", "timeout: 60s")
        )
        daemon = Daemon(config)
        daemon.wait_for_log("daemon started")
        deadline = time.monotonic() + 10
        while feeds.count("/rss") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.monotonic()
        assert daemon.stop() == 0
        assert time.monotonic() - started < 12


def test_daemon_talks_to_systemd(
    tmp_path: Path, servers: tuple[FeedServer, WebhookReceiver]
) -> None:
    """Under systemd the daemon says READY=1, pets the watchdog, and says STOPPING=1."""
    import socket

    feeds, hook = servers
    config = tmp_path / "watchlist.yaml"
    config.write_text(config_text(feeds, hook, "[Lukashenko]"))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(15)
    daemon = Daemon(config, NOTIFY_SOCKET=str(tmp_path / "notify.sock"), WATCHDOG_USEC="1000000")
    got: list[str] = []
    try:
        while not any("WATCHDOG=1" in m for m in got) or not any("READY=1" in m for m in got):
            got.append(sock.recv(4096).decode())
        daemon.proc.send_signal(signal.SIGTERM)
        while not any("STOPPING=1" in m for m in got):
            got.append(sock.recv(4096).decode())
    finally:
        code = daemon.stop()
        sock.close()
    assert code == 0
    ready = next(m for m in got if "READY=1" in m)
    assert "STATUS=polling 1 feeds" in ready


def test_bad_query_edit_keeps_the_last_good_watchlist(
    tmp_path: Path, servers: tuple[FeedServer, WebhookReceiver]
) -> None:
    """An edit with a broken query is logged at its line and column inside the query, and
    the daemon keeps matching with the watchlist it had."""
    feeds, hook = servers
    config = tmp_path / "watchlist.yaml"
    config.write_text(config_text(feeds, hook, "[Lukashenko]"))
    daemon = Daemon(config)
    try:
        hook.wait_for(1, timeout=15)
        mark = len(daemon.lines)
        broken = config_text(feeds, hook, "[Minsk]\n            query: 'Minsk AND (protest*'")
        replace_file(config, broken)
        error = daemon.wait_for_log("keeping the last good one", after=mark)
        assert f"{config}:9:23: watch 'belarus': query: this '(' is never closed" in error
        second = Item(guid="2", title="Lukashenko again", link="https://n.example/2")
        feeds.add("/rss", rss("Wire", [second, FIRST]), etag='"v2"')
        hook.wait_for(2, timeout=15)
    finally:
        assert daemon.stop() == 0
    assert titles(hook) == [FIRST.title, second.title]
