"""`newswatch run` against failing servers: Retry-After is respected across polls, error
backoff doubles and resets on the first success. Times are lower bounds the daemon may not
undercut; the exact waits are read from the database."""

from __future__ import annotations

import itertools
import sqlite3
import textwrap
import time
from datetime import datetime
from pathlib import Path

import pytest

from support.cli import Daemon
from support.feeds import Item, rss
from support.feedserver import FeedServer

pytestmark = pytest.mark.slow

INTERVAL = 1.0  # seconds: the shortest interval newswatch accepts
FEED = rss("Wire", [Item(guid="1", title="Quiet day", link="https://n.example/1")])


def start(tmp_path: Path, server: FeedServer) -> Daemon:
    config = tmp_path / "watchlist.yaml"
    config.write_text(
        textwrap.dedent(f"""\
        database: state.db
        poll: {{interval: 1s, timeout: 5s}}
        feeds:
          - url: {server.url("/rss")}
        watches:
          - name: w
            keywords: [nothing-matches-this]
        """)
    )
    return Daemon(config)


def feed_row(tmp_path: Path) -> dict[str, object]:
    with sqlite3.connect(tmp_path / "state.db") as conn:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM feeds").fetchone())


def wait_row(tmp_path: Path, status: int, polls: int) -> dict[str, object]:
    """The feed's row once a poll answered ``status`` has been recorded after at least
    ``polls`` polls in all (the daemon records a poll just after the request)."""
    for _ in range(1500):
        row = feed_row(tmp_path)
        if row["last_status"] == status and _polls(row) >= polls:
            return row
        time.sleep(0.01)
    raise AssertionError(f"no poll with status {status} recorded: {row}")


def _polls(row: dict[str, object]) -> int:
    return int(str(row["error_streak"])) + (1 if row["last_success_at"] else 0)


def seconds(later: object, earlier: object) -> float:
    return (
        datetime.fromisoformat(str(later)) - datetime.fromisoformat(str(earlier))
    ).total_seconds()


def test_retry_after_is_respected_across_polls(tmp_path: Path) -> None:
    """After a 429 with Retry-After: 2, the next request comes no sooner than 2 s later,
    although the interval is 1 s."""
    with FeedServer() as server:
        server.add("/rss", b"busy", status=429, headers={"Retry-After": "2"})
        daemon = start(tmp_path, server)
        try:
            first, second = server.wait_for("/rss", 2)[:2]
        finally:
            assert daemon.stop() == 0
    assert second - first >= 2.0
    row = feed_row(tmp_path)
    assert row["last_error"] == "HTTP 429"


def test_backoff_doubles_then_resets_on_success(tmp_path: Path) -> None:
    """Failures wait 1, 2, 4, 8 intervals; the first success resets the streak and the
    interval; the next failure waits one interval again."""
    with FeedServer() as server:
        server.add("/rss", b"oops", status=500)
        daemon = start(tmp_path, server)
        try:
            times = server.wait_for("/rss", 4)
            server.add("/rss", FEED)  # the fifth poll succeeds
            server.wait_for("/rss", 5)
            ok = wait_row(tmp_path, 200, 1)
            server.add("/rss", b"oops", status=500)
            failed_again = wait_row(tmp_path, 500, 2)
        finally:
            assert daemon.stop() == 0
    gaps = [b - a for a, b in itertools.pairwise(times)]
    for n, gap in enumerate(gaps):
        assert gap >= INTERVAL * 2**n * 0.99, gaps
    assert ok["error_streak"] == 0 and ok["backoff_until"] is None
    assert seconds(ok["next_poll_at"], ok["last_fetch_at"]) == pytest.approx(INTERVAL)
    assert failed_again["error_streak"] == 1
    wait = seconds(failed_again["backoff_until"], failed_again["last_fetch_at"])
    assert wait == pytest.approx(INTERVAL)
