"""Two newswatch processes on one database, through the CLI with loopback feeds and a
webhook receiver: every alert is POSTed once (a kill -9 mid-send may repeat only the
message in flight, under the same Idempotency-Key), every feed fetched once, and each
process says that it met the other. Counts, not timings."""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newswatch.store import Instance, SQLiteStore
from support.cli import Daemon, newswatch
from support.shared import kill_mid_send, once_beside_daemon, two_at_once, world

MET = "another newswatch works on this database"


def test_run_once_beside_the_daemon_sends_and_fetches_nothing_twice(tmp_path: Path) -> None:
    """``run --once`` started while the daemon runs: one POST per alert, one fetch per
    feed; run --once logs the daemon it met (pid, host)."""
    with world(tmp_path, feeds=6, items=4) as w:
        counted, _, once_err = once_beside_daemon(w)
    assert (counted.posts, counted.distinct, counted.fetches) == (24, 24, 6)
    assert MET in once_err and "pid=" in once_err and f"host={socket.gethostname()}" in once_err


def test_two_run_once_at_once_send_and_fetch_nothing_twice(tmp_path: Path) -> None:
    """Two ``run --once`` started together: one POST per alert, one fetch per feed."""
    with world(tmp_path, feeds=6, items=4) as w:
        counted, errs = two_at_once(w)
    assert (counted.posts, counted.distinct, counted.fetches) == (24, 24, 6)
    assert any(MET in err for err in errs)


def test_the_daemon_says_when_a_run_once_worked_beside_it(tmp_path: Path) -> None:
    """The daemon logs the ``run --once`` that ran beside it, even a short one."""
    with world(tmp_path, feeds=2, items=1) as w:
        daemon = Daemon(w.config)
        try:
            daemon.wait_for_log("daemon started", timeout=30)
            once = newswatch(w.config, "run", "--once")
            line = daemon.wait_for_log(MET, timeout=20)
        finally:
            daemon.stop(30)
    assert "pid=" in line and "host=" in line
    assert once.returncode == 0  # feeds polled by the daemon are no outage of run --once


def test_kill_9_mid_send_repeats_only_the_message_in_flight(tmp_path: Path) -> None:
    """Two daemons; one is killed while the receiver delays its answers: the other sends
    the rest, and at most the one message in flight twice, under the same key."""
    with world(tmp_path, feeds=4, items=4, answer_delay=0.3) as w:
        counted = kill_mid_send(w, kill_after=3)
    assert counted.distinct == 16
    assert counted.posts - counted.distinct <= 1 and counted.twice <= 1


def test_status_and_alerts_show_who_is_polling_and_sending(tmp_path: Path) -> None:
    """A claim held by a running process shows in ``status`` and ``alerts``, text and JSON."""
    with world(tmp_path, feeds=1, items=1) as w:
        assert newswatch(w.config, "run", "--once").returncode == 0
        now = datetime.now(UTC)
        me = Instance("held-by-test", os.getpid(), "box-1", now)
        with SQLiteStore(tmp_path / "state.db") as store:
            store.register_instance(me, now, now + timedelta(hours=1))
            store.claim_feed(w.feeds.url(w.paths[0]), me, now, now + timedelta(hours=1))
            store.execute("UPDATE deliveries SET state = 'pending', next_attempt_at = ?", [now])
            (d,) = store.due_for("hook", now + timedelta(seconds=1))
            claim = store.claim_unit([d.id], d.unit or "", me, now, now + timedelta(hours=1))
            assert claim.claimed
        status = newswatch(w.config, "status").stdout
        status_json = json.loads(newswatch(w.config, "status", "--json").stdout)
        alerts = newswatch(w.config, "alerts").stdout
        alerts_json = json.loads(newswatch(w.config, "alerts", "--json").stdout)
    who = f"pid {os.getpid()} on host box-1 since"
    assert f"polling by {who}" in status and f"sending by {who}" in alerts
    for record in (status_json, alerts_json):
        assert (record["claim"]["pid"], record["claim"]["host"]) == (os.getpid(), "box-1")
