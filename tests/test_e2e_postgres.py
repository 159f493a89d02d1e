"""End to end on PostgreSQL (the session's real server), through the CLI with loopback
feeds and a webhook receiver: ``run --once`` alerts each item once and ``status`` reads
the shared database; two processes on one database poll each feed once and send each
alert once; a kill -9 mid-send repeats at most the message in flight; copies of one story
that two processes commit at the same moment make one story and one alert."""

from __future__ import annotations

import contextlib
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newswatch.config import PostgresUrl
from newswatch.store import Instance, open_store
from support.cli import Daemon, newswatch
from support.crash import _kill
from support.feeds import Item, rss
from support.postgres import PASSWORD
from support.shared import kill_mid_send, two_at_once, world

pytestmark = pytest.mark.slow


def test_run_once_on_postgres_alerts_once_and_status_reads_it(tmp_path: Path, pg_url: str) -> None:
    """The password from $PGPASSWORD: ``run --once`` sends one POST per alert, a second
    run none; ``status`` reads the feeds from the database and never shows the password."""
    bare = pg_url.replace(f":{PASSWORD}@", "@")
    with world(tmp_path, feeds=3, items=2, database=bare) as w:
        first = newswatch(w.config, "run", "--once", PGPASSWORD=PASSWORD)
        assert first.returncode == 0, first.stderr
        second = newswatch(w.config, "run", "--once", PGPASSWORD=PASSWORD)
        status = newswatch(w.config, "status", PGPASSWORD=PASSWORD)
        check = newswatch(w.config, "check", PGPASSWORD=PASSWORD)
        counted = w.count()
    assert second.returncode == 0, second.stderr
    assert (counted.posts, counted.distinct) == (6, 6)
    assert status.returncode == 0 and status.stdout.count(" ok ") == 3
    assert bare.rpartition("/")[2] in check.stdout
    for out in (first, second, status, check):
        assert PASSWORD not in out.stdout + out.stderr


def test_a_wrong_password_is_an_error_that_does_not_show_it(tmp_path: Path, pg_url: str) -> None:
    """A refused login fails the run (exit 1) with a message that masks the URL's password."""
    wrong = pg_url.replace(f":{PASSWORD}@", ":not-the-password@")
    with world(tmp_path, feeds=1, items=1, database=wrong) as w:
        run = newswatch(w.config, "run", "--once")
    assert run.returncode == 1
    assert "cannot open database postgresql://newswatch:***@" in run.stderr
    assert "not-the-password" not in run.stderr


def test_two_run_once_at_once_on_postgres_poll_and_send_nothing_twice(
    tmp_path: Path, pg_url: str
) -> None:
    """Two ``run --once`` on one PostgreSQL database: one fetch per feed, one POST per alert."""
    with world(tmp_path, feeds=6, items=4, database=pg_url) as w:
        counted, errs = two_at_once(w)
    assert (counted.posts, counted.distinct, counted.fetches) == (24, 24, 6), errs


def test_kill_9_mid_send_on_postgres_repeats_only_the_message_in_flight(
    tmp_path: Path, pg_url: str
) -> None:
    """Two daemons on PostgreSQL; one is killed mid-send: the other sends the rest (its
    claims expire), at most the message in flight twice."""
    with world(tmp_path, feeds=4, items=4, answer_delay=0.3, database=pg_url) as w:
        counted = kill_mid_send(w, kill_after=3)
    assert counted.distinct == 16
    assert counted.posts - counted.distinct <= 1 and counted.twice <= 1


STORIES = [
    "Leaked documents show that security officials drew up lists of independent election "
    "observers to be detained in the weeks before the presidential vote, according to papers "
    "obtained by a group of exiled journalists, with names, home addresses and workplaces.",
    "The national railway will close its eastern freight line for six months from March to "
    "rebuild three bridges damaged by floods, the transport ministry said on Tuesday, adding "
    "that grain shipments would be routed through the northern border crossings instead.",
    "A court sentenced four members of a hockey club's supporters group to prison terms of "
    "between two and five years for taking part in protests, a human rights group said, "
    "the latest in a series of trials of fans accused of organising unauthorised marches.",
]


def test_copies_committed_by_two_processes_at_once_make_one_alert_per_story(
    tmp_path: Path, pg_url: str
) -> None:
    """Six outlets carry copies of the same three stories; two ``run --once`` poll them at
    once: each story is alerted once (the story decision is taken one instance at a time)."""
    with world(tmp_path, feeds=6, items=3, database=pg_url, copies=STORIES) as w:
        counted, errs = two_at_once(w)
    assert (counted.posts, counted.distinct, counted.fetches) == (3, 3, 6), errs


def test_status_on_postgres_shows_which_instance_holds_each_feeds_lease(
    tmp_path: Path, pg_url: str
) -> None:
    """A feed whose lease another instance holds shows in ``status`` (text and JSON) with
    that instance's pid and host, read from the shared database."""
    with world(tmp_path, feeds=2, items=1, database=pg_url) as w:
        assert newswatch(w.config, "run", "--once").returncode == 0
        now = datetime.now(UTC)
        me = Instance("lease-holder", 4242, "box-2", now)
        with contextlib.closing(open_store(PostgresUrl(pg_url))) as store:
            store.register_instance(me, now, now + timedelta(minutes=1))
            store.claim_feed(w.feeds.url(w.paths[1]), me, now, now + timedelta(minutes=1))
        status = newswatch(w.config, "status").stdout
        records = [
            json.loads(line) for line in newswatch(w.config, "status", "--json").stdout.splitlines()
        ]
    assert "polling by pid 4242 on host box-2 since" in status
    claims = [r["claim"] for r in records]
    assert claims.count(None) == 1
    assert [(c["pid"], c["host"]) for c in claims if c] == [(4242, "box-2")]


def test_after_a_kill_9_the_other_instance_polls_its_feeds_within_the_lease(
    tmp_path: Path, pg_url: str
) -> None:
    """Two daemons share four feeds (polled every 2 s, lease 15 s); one is killed: new
    items in every feed are then alerted once each, by the other, within the lease."""
    with world(tmp_path, feeds=4, items=1, database=pg_url) as w:
        text = w.config.read_text().replace(
            "interval: 1h, timeout: 10s", "interval: 2s, timeout: 5s, lease: 15s"
        )
        w.config.write_text(text)
        first, survivor = Daemon(w.config), Daemon(w.config)
        try:
            w.wait_for_keys(4, timeout=60)
            _kill(first)
            killed = time.monotonic()
            for n, path in enumerate(w.paths):
                item = Item(f"new-{n}", f"Lukashenko after the kill {n}", f"https://k.example/{n}")
                w.feeds.add(path, rss(f"Feed {n}", [item]))
            w.wait_for_keys(8, timeout=60)
            failover = time.monotonic() - killed
            time.sleep(1)
            counted = w.count()
        finally:
            if first.proc.poll() is None:
                _kill(first)
            survivor.stop(30)
    # Every alert once; the killed daemon may have been mid-send (POSTed, not yet marked
    # sent): the survivor then sends that one again, with the same key (SPEC §6).
    assert counted.distinct == 8 and counted.posts in (8, 9)
    assert failover < 15 + 2 + 10, f"took {failover:.1f}s"
