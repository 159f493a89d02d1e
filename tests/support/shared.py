"""Two newswatch processes on one database: a daemon with ``run --once`` beside it, two
``run --once`` at once, a kill -9 of one process mid-send while another runs. Shared by
the test suite (small runs) and ``bench/shared_bench.py`` (the 40 feeds x 10 items of the
issue), which measure the same thing: POSTs and distinct Idempotency-Keys per alert."""

from __future__ import annotations

import random
import subprocess
import textwrap
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from support.cli import Daemon, start_newswatch
from support.crash import _kill
from support.feeds import Item, rss
from support.feedserver import FeedServer
from support.receivers import ReceivedRequest, Reply, WebhookReceiver

WORDS = [
    "harvest",
    "border",
    "tariff",
    "minister",
    "railway",
    "strike",
    "drought",
    "forest",
    "bridge",
    "election",
    "pipeline",
    "factory",
    "museum",
    "summit",
    "river",
    "budget",
    "satellite",
    "vaccine",
    "concert",
    "airport",
    "court",
    "harbour",
    "refinery",
    "protest",
    "treaty",
    "glacier",
    "banking",
    "festival",
]


@dataclass(frozen=True)
class Counted:
    """What the receiver saw."""

    alerts: int  # alerts the feeds cause
    posts: int  # requests that reached the receiver
    distinct: int  # distinct Idempotency-Keys among them
    twice: int  # keys received more than once
    extra: int  # requests beyond one per key
    fetches: int  # feed GETs, all feeds together

    def line(self) -> str:
        return (
            f"{self.alerts} alerts: {self.posts} POSTs, {self.distinct} distinct keys, "
            f"{self.twice} alerts delivered twice or more ({self.extra} extra POSTs); "
            f"{self.fetches} feed fetches"
        )


@dataclass
class World:
    """Feeds, a receiver and a config on them."""

    feeds: FeedServer
    hook: WebhookReceiver
    config: Path
    paths: list[str]
    alerts: int

    def count(self) -> Counted:
        requests: list[ReceivedRequest] = list(self.hook.requests)
        counts = Counter(r.header("Idempotency-Key") or "" for r in requests)
        return Counted(
            alerts=self.alerts,
            posts=len(requests),
            distinct=len(counts),
            twice=sum(1 for n in counts.values() if n > 1),
            extra=sum(n - 1 for n in counts.values()),
            fetches=sum(self.feeds.count(p) for p in self.paths),
        )

    def wait_for_keys(self, count: int, timeout: float) -> None:
        """Until ``count`` distinct keys arrived (or ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len({r.header("Idempotency-Key") for r in list(self.hook.requests)}) >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"expected {count} alerts, got {self.count().line()}")


def _titles(rng: random.Random, n: int) -> list[str]:
    """Titles different enough never to be the same story."""
    return [f"Lukashenko {' '.join(rng.sample(WORDS, 6))} {i}" for i in range(n)]


@contextmanager
def world(
    tmp: Path,
    *,
    feeds: int,
    items: int,
    answer_delay: float = 0.0,
    seed: int = 16,
    database: str = "state.db",
    copies: Sequence[str] = (),
    rate: str | None = None,
) -> Iterator[World]:
    """``feeds`` feeds of ``items`` matching items each, one webhook (answering after
    ``answer_delay`` seconds; at most ``rate``, e.g. ``3/s``, if given), a config with
    every feed due at once, on ``database`` (an SQLite file beside the config, or a
    PostgreSQL URL). With ``copies`` every feed carries one item per text in it, and
    stories are on: copies of the same stories."""
    rng = random.Random(seed)
    with FeedServer() as server, WebhookReceiver(default=Reply(delay=answer_delay)) as hook:
        paths = [f"/f{n}.xml" for n in range(feeds)]
        for n, path in enumerate(paths):
            titles = [f"Lukashenko report {i}" for i in range(len(copies))] or _titles(rng, items)
            texts = list(copies) or [""] * len(titles)
            entries = [
                Item(f"f{n}-{i}", t, f"https://n{n}.example/{i}", texts[i])
                for i, t in enumerate(titles)
            ]
            server.add(path, rss(f"Feed {n}", entries))
        listed = "\n".join(f"  - url: {server.url(p)}" for p in paths)
        config = tmp / "watchlist.yaml"
        config.write_text(
            f"database: {database}\n"
            + textwrap.dedent("""\
            poll: {interval: 1h, timeout: 10s, first_run: all}
            """)
            + ("" if copies else "stories: off\n")
            + "feeds:\n"
            + listed
            + textwrap.dedent(f"""
            watches:
              - name: belarus
                keywords: [Lukashenko]
            destinations:
              - name: hook
                type: webhook
                url: {hook.url}
            """)
            + (f"    rate: {rate}\n" if rate else "")
        )
        yield World(server, hook, config, paths, len(copies) or feeds * items)


def once(w: World) -> subprocess.Popen[str]:
    """``run --once`` started in the background."""
    return start_newswatch(w.config, "run", "--once")


def finish(proc: subprocess.Popen[str], timeout: float = 120.0) -> tuple[int, str]:
    """Its exit code and stderr."""
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def once_beside_daemon(w: World, timeout: float = 120.0) -> tuple[Counted, list[str], str]:
    """The daemon starts; as soon as it has begun polling, ``run --once`` starts beside
    it; both finish; what the receiver saw, the daemon's log and run --once's stderr."""
    daemon = Daemon(w.config)
    try:
        daemon.wait_for_log("daemon started", timeout=30)
        _, err = finish(once(w), timeout)
        w.wait_for_keys(w.alerts, timeout)
        time.sleep(0.5)  # a duplicate send in flight lands too
    finally:
        daemon.stop(30)
    return w.count(), daemon.lines, err


def two_at_once(w: World, timeout: float = 120.0) -> tuple[Counted, list[str]]:
    """Two ``run --once`` started together; both finish."""
    procs = [once(w), once(w)]
    errs = [finish(p, timeout)[1] for p in procs]
    return w.count(), errs


def kill_mid_send(w: World, *, kill_after: int, timeout: float = 120.0) -> Counted:
    """Two daemons on the database; once ``kill_after`` POSTs arrived (the receiver
    answers slowly, so sends are in flight), SIGKILL the first (with its helper
    processes); the other delivers the rest. Returns what the receiver saw."""
    first, survivor = Daemon(w.config), Daemon(w.config)
    try:
        w.hook.wait_for(kill_after, timeout=timeout)
        _kill(first)
        survivor.wait_for_log("daemon started", timeout=30)
        w.wait_for_keys(w.alerts, timeout)
        time.sleep(0.5)
    finally:
        if first.proc.poll() is None:
            _kill(first)
        survivor.stop(30)
    return w.count()
