"""newswatch on one PostgreSQL database shared by several instances, measured on a
throwaway server (as the test suite starts it: Debian's binaries, a temporary folder,
127.0.0.1) with loopback feeds and one webhook, a fresh database per run.

    .venv/bin/python bench/pg_bench.py throughput [--feeds 500] [--items 20]
        [--instances 1 2 3] [--repeat 3] [--no-alerts]
    .venv/bin/python bench/pg_bench.py claims [--number 2000]
    .venv/bin/python bench/pg_bench.py failover [--feeds 60] [--interval 20] [--lease 15]
        [--repeat 3]

``throughput``: one, two and three ``run --once`` at once on the same feeds, counted at the
receiver (wall time, when the last feed fetch and the last POST arrived, polls/s,
alerts/s, POSTs and distinct Idempotency-Keys); runs are interleaved (1, 2, 3, 1, 2, 3,
…) and the median of each is printed with the load. ``--no-alerts``: the same feeds
under a watch that matches nothing (the polls alone: fetch, parse, match, commit).

``claims``: what one poll's lease costs on PostgreSQL (``claim_feed``: one short write
before the poll; its release rides in the poll's commit), beside a poll commit that
brought nothing (``commit_fetch``) and one of 20 new articles (``commit_poll``), a
message claim with and without a rate (``claim_unit``) and a heartbeat; medians over
batches.

``failover``: two daemons (``poll.interval``, ``poll.lease`` as given), one killed with
SIGKILL; for each feed it was polling at the kill (holding its lease), the time from the
kill until the other fetches it, and for each other feed it had polled last, how long
after the feed fell due the other fetches it. Four cases: the kill between polls or
mid-poll (every fetch answered after 2 s, so the dead one holds leases; at once again
after the kill), and the survivor on the same host (which finds the dead pid and ends
its leases at its next heartbeat) or, simulated by renaming the dead one's host in
``instances``, on another host (which waits for the lease to expire).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import psycopg

from newswatch.config import PostgresUrl
from newswatch.models import Article, Match, SendWindow
from newswatch.store import FeedUpdate, Instance, Pace, PendingAlert, open_store
from support.cli import Daemon
from support.crash import _kill
from support.postgres import PgServer, server_bindir, server_owner
from support.shared import World, finish, once, world


def load() -> str:
    """The load averages (1, 5, 15 min) and the cores, for the record."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


@contextmanager
def pg_server() -> Iterator[PgServer]:
    """A throwaway PostgreSQL server, removed afterwards."""
    bindir, owner = server_bindir(), server_owner()
    if bindir is None:
        sys.exit("no PostgreSQL server binaries (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="newswatch-pg-"))
    if owner is not None:
        shutil.chown(root, owner)
    server = PgServer(bindir, root, owner)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


# --- throughput -------------------------------------------------------------------------


def throughput(server: PgServer, args: argparse.Namespace) -> None:
    times: dict[int, list[float]] = {n: [] for n in args.instances}
    polls: dict[int, list[float]] = {n: [] for n in args.instances}
    for r in range(args.repeat):
        for n in args.instances:
            before = load()
            with (
                tempfile.TemporaryDirectory() as tmp,
                world(
                    Path(tmp), feeds=args.feeds, items=args.items, database=server.new_database()
                ) as w,
            ):
                if args.no_alerts:  # the polls alone: fetch, parse, match, commit
                    text = w.config.read_text().replace("[Lukashenko]", "[nowhere-to-be-found]")
                    w.config.write_text(text)
                started = time.monotonic()
                codes = [finish(p, 3600)[0] for p in [once(w) for _ in range(n)]]
                elapsed = time.monotonic() - started
                counted = w.count()
                polled = max(t for p in w.paths for t in w.feeds.times(p)) - started
                posted = max((r.at for r in w.hook.requests), default=started) - started
            times[n].append(elapsed)
            polls[n].append(polled)
            print(
                f"run {r + 1}, {n} instance(s): {elapsed:.1f} s (last fetch at {polled:.1f} s,"
                f" last POST at {posted:.1f} s), {counted.fetches / polled:.1f} polls/s,"
                f" {counted.posts / elapsed:.0f} alerts/s; exit {codes}; {counted.line()};"
                f" before: {before}, after: {load()}",
                flush=True,
            )
    for n, values in times.items():
        print(
            f"median of {len(values)}, {n} instance(s), {args.feeds} feeds x {args.items} items:"
            f" {statistics.median(values):.1f} s (runs: {', '.join(f'{v:.1f}' for v in values)}),"
            f" the last fetch at {statistics.median(polls[n]):.1f} s"
        )


# --- claims -----------------------------------------------------------------------------

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
URL = "https://feeds.example/rss"


def claims(server: PgServer, args: argparse.Namespace) -> None:
    n = args.number
    print(f"claims on PostgreSQL 127.0.0.1, {load()}")
    with closing(open_store(PostgresUrl(server.new_database()))) as store:
        me = Instance("bench", 1, "host", T0)
        store.register_instance(me, T0, T0 + timedelta(days=1))
        store.ensure_feeds([(URL, "Wire")])
        articles = [Article(URL, f"e{i}", None, None, f"t{i}") for i in range(2 * n)]
        pending = {a.entry_key: [PendingAlert(Match("w", ()), ("hook",))] for a in articles}
        store.commit_poll(URL, FeedUpdate(success=True), articles, pending, T0)
        due = store.due_for("hook", T0, limit=2 * n)
        store.assign_units({d.alert.id: [d.id] for d in due})
        units = iter([(d.id, d.alert.id) for d in due])
        until = T0 + timedelta(minutes=1)
        update = FeedUpdate(success=True, poller=me.id)
        window = [SendWindow()]

        def renew() -> None:
            store.renew_instance(me, T0, until)

        def message_claim() -> None:
            d, unit = next(units)
            store.claim_unit([d], unit, me, T0, until)

        def paced_claim() -> None:
            d, unit = next(units)
            claim = store.claim_unit([d], unit, me, T0, until, Pace("hook", window[0], until - T0))
            window[0] = claim.window or window[0]

        batches = iter(range(10**6))

        def new_articles() -> None:
            b = next(batches)
            fresh = [Article(URL, f"n{b}-{i}", None, None, f"t{b}-{i}") for i in range(20)]
            store.commit_poll(URL, FeedUpdate(success=True, poller=me.id), fresh, {}, T0)

        cases: list[tuple[str, Callable[[], object]]] = [
            ("lease per poll (claim_feed)", lambda: store.claim_feed(URL, me, T0, until)),
            ("heartbeat (renew_instance) holding one lease, every 5 s", renew),
            ("poll commit of 20 new articles, stories off (commit_poll)", new_articles),
            ("poll commit, no news (commit_fetch)", lambda: store.commit_fetch(URL, update, T0)),
            ("claim per message, no rate (claim_unit)", message_claim),
            ("claim per message under a rate (claim_unit + pace)", paced_claim),
        ]  # fmt: skip
        batch = max(n // 20, 1)
        for name, fn in cases:
            per_call = [timeit.timeit(fn, number=batch) / batch for _ in range(n // batch)]
            print(f"{name}: median {statistics.median(per_call) * 1e3:.2f} ms")


# --- failover ---------------------------------------------------------------------------


def _rows(url: str, sql: str, params: list[object]) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def _until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass(frozen=True)
class Takeover:
    """One failover: for the feeds the killed instance was polling at the kill (its
    leases), the seconds from the kill until the survivor fetched each; for the others
    it polled last, the seconds from when each fell due (or the kill, if later)."""

    held: list[float]
    idle: list[float]


def one_failover(
    server: PgServer, args: argparse.Namespace, *, mid_poll: bool, other_host: bool
) -> Takeover:
    url = server.new_database()
    with (
        tempfile.TemporaryDirectory() as tmp,
        world(Path(tmp), feeds=args.feeds, items=1, database=url) as w,
    ):
        text = w.config.read_text().replace(
            "interval: 1h, timeout: 10s",
            f"interval: {args.interval}s, timeout: 5s, lease: {args.lease}s, concurrency: 64",
        )
        w.config.write_text(text)
        first, survivor = Daemon(w.config), Daemon(w.config)
        try:
            try:
                w.wait_for_keys(args.feeds, timeout=120)
            except AssertionError as exc:
                raise RuntimeError("\n".join(first.lines[-20:])) from exc
            ((victim,),) = _rows(url, "SELECT id FROM instances WHERE pid = %s", [first.proc.pid])
            if other_host:  # the survivor cannot look for the dead pid: it waits for the lease
                _rows(url, "UPDATE instances SET host = 'elsewhere' WHERE id = %s RETURNING id",
                      [victim])  # fmt: skip

            def held() -> int:
                sql = "SELECT count(*) FROM feeds WHERE claimed_by = %s"
                return int(str(_rows(url, sql, [victim])[0][0]))

            if mid_poll:  # in the next round of polls, while its fetches wait for answers
                for path in w.paths:
                    w.feeds.routes[path].delay = 2.0
                _until(lambda: held() > 0, 2 * args.interval + 30, "a round of polls")
                time.sleep(1.0)
            else:  # between two rounds: no lease held, half an interval after its polls
                _until(lambda: held() == 0, 60, "the end of a round")
                time.sleep(args.interval / 2)
            _kill(first)
            killed, wall = time.monotonic(), datetime.now(UTC)
            for path in w.paths:  # the survivor's fetches answered at once again (they go
                w.feeds.routes[path].delay = 0.0  # two at a time to one host: 127.0.0.1)
            theirs = _rows(
                url,
                "SELECT url, claimed_by = %s, next_poll_at FROM feeds"
                " WHERE claimed_by = %s OR (polled_by = %s AND claimed_by IS NULL)",
                [victim] * 3,  # not those the survivor polls now: they are its own already
            )
            due: dict[str, tuple[bool, float]] = {}
            for feed, leased, next_poll in theirs:
                at = datetime.fromisoformat(str(next_poll)) if next_poll else wall
                wait = 0.0 if leased else max((at - wall).total_seconds(), 0.0)
                due["/" + str(feed).rpartition("/")[2]] = (bool(leased), killed + wait)
            limit = args.lease + args.interval + 60
            _until(lambda: all(_fetched_after(w, p, killed) for p in due), limit, "takeover")
            late = {
                p: (_fetched_after(w, p, killed) or 0.0) + killed - t for p, (_, t) in due.items()
            }
            return Takeover(
                held=[late[p] for p, (leased, _) in due.items() if leased],
                idle=[late[p] for p, (leased, _) in due.items() if not leased],
            )
        finally:
            if first.proc.poll() is None:
                _kill(first)
            survivor.stop(30)


def _fetched_after(w: World, path: str, since: float) -> float | None:
    """Seconds from ``since`` to the first fetch of ``path`` after it, if any."""
    after = [t for t in w.feeds.times(path) if t > since]
    return after[0] - since if after else None


def _spread(values: list[float]) -> str:
    if not values:
        return "none"
    return f"{len(values)}, median {statistics.median(values):.1f} s, max {max(values):.1f} s"


def failover(server: PgServer, args: argparse.Namespace) -> None:
    print(
        f"failover: {args.feeds} feeds, interval {args.interval}s, lease {args.lease}s"
        f" (bound: lease + interval = {args.lease + args.interval}s), {load()}"
    )
    for other_host in (False, True):
        for mid_poll in (False, True):
            runs = [
                one_failover(server, args, mid_poll=mid_poll, other_host=other_host)
                for _ in range(args.repeat)
            ]
            print(
                f"{'other host' if other_host else 'same host'},"
                f" kill {'mid-poll' if mid_poll else 'between polls'}, {args.repeat} runs:"
                f" feeds it was polling, fetched by the other after the kill:"
                f" {_spread([x for r in runs for x in r.held])};"
                f" feeds it had polled, fetched by the other after they fell due:"
                f" {_spread([x for r in runs for x in r.idle])}; {load()}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    t = sub.add_parser("throughput")
    t.add_argument("--feeds", type=int, default=500)
    t.add_argument("--items", type=int, default=20)
    t.add_argument("--instances", type=int, nargs="+", default=[1, 2, 3])
    t.add_argument("--repeat", type=int, default=3)
    t.add_argument("--no-alerts", action="store_true", help="a watch that matches nothing")
    c = sub.add_parser("claims")
    c.add_argument("--number", type=int, default=2000)
    f = sub.add_parser("failover")
    f.add_argument("--feeds", type=int, default=60)
    f.add_argument("--interval", type=int, default=20)
    f.add_argument("--lease", type=int, default=15)
    f.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # the server is stopped on the way out
    with pg_server() as server:
        {"throughput": throughput, "claims": claims, "failover": failover}[args.what](server, args)


if __name__ == "__main__":
    main()
