"""kill -9 of the daemon in the middle of a burst of alerts, then a restart: shared by the
test suite (a few runs) and ``bench/kill9_bench.py`` (many runs at random points)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import textwrap
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import psutil

from support.cli import Daemon
from support.feeds import Item, rss
from support.feedserver import FeedServer
from support.receivers import Reply, WebhookReceiver


@dataclass(frozen=True)
class CrashResult:
    """What the receiver saw across the kill and the restart."""

    alerts: int  # alerts the feed causes
    received: int  # requests that reached the receiver
    distinct: int  # distinct Idempotency-Keys among them
    duplicates: dict[str, int]  # key -> times received, for keys received more than once
    keys_match_bodies: bool  # every request's key is the id in its body
    killed_after: int  # requests received when the kill was sent
    states: dict[str, int]  # outbox rows by state at the end


def _config(tmp: Path, feeds: FeedServer, hook: WebhookReceiver) -> Path:
    config = tmp / "watchlist.yaml"
    config.write_text(
        textwrap.dedent(f"""\
        database: state.db
        poll: {{interval: 1h, timeout: 10s, first_run: all}}
        feeds:
          - url: {feeds.url("/rss")}
        watches:
          - name: belarus
            keywords: [Lukashenko]
        destinations:
          - name: hook
            type: webhook
            url: {hook.url}
        """)
    )
    return config


def _kill(daemon: Daemon) -> None:
    """SIGKILL the daemon, then its helper processes (the parser pool's forkserver and
    resource tracker), which an orphan keeps alive (systemd kills the whole group)."""
    try:
        children = psutil.Process(daemon.proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    os.kill(daemon.proc.pid, signal.SIGKILL)
    daemon.proc.wait(10)
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    psutil.wait_procs(children, timeout=5)
    daemon.stop(5)  # collects the output threads; the process is already gone


def _states(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall()
    return {state: count for state, count in rows}


def kill_during_burst(
    tmp: Path, *, alerts: int = 40, kill_after: int = 10, extra_delay: float = 0.0,
    answer_delay: float = 0.03, timeout: float = 60.0,
) -> CrashResult:  # fmt: skip
    """Start the daemon on a feed of ``alerts`` matching items and a slow webhook
    receiver; SIGKILL it ``extra_delay`` seconds after the ``kill_after``-th request
    arrived; start it again and wait until every alert was received."""
    items = [
        Item(guid=f"g{n}", title=f"Lukashenko item {n}", link=f"https://n.example/{n}")
        for n in range(alerts)
    ]
    with FeedServer() as feeds, WebhookReceiver(default=Reply(delay=answer_delay)) as hook:
        feeds.add("/rss", rss("Wire", items))
        config = _config(tmp, feeds, hook)
        first = Daemon(config)
        try:
            hook.wait_for(kill_after, timeout=timeout)
            time.sleep(extra_delay)
            killed_after = len(hook.requests)
        finally:
            _kill(first)
        second = Daemon(config)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                keys = {r.header("Idempotency-Key") for r in list(hook.requests)}
                if len(keys) >= alerts:
                    break
                time.sleep(0.05)
            time.sleep(0.2)  # let the last "sent" commit land
        finally:
            second.stop(15)
        requests = list(hook.requests)
    keys = [r.header("Idempotency-Key") or "" for r in requests]
    counts = Counter(keys)
    return CrashResult(
        alerts=alerts,
        received=len(requests),
        distinct=len(counts),
        duplicates={k: n for k, n in counts.items() if n > 1},
        keys_match_bodies=all(
            json.loads(r.body)["id"] == key for r, key in zip(requests, keys, strict=True)
        ),
        killed_after=killed_after,
        states=_states(tmp / "state.db"),
    )
