"""No feed ever drops out of the schedule: a feed whose poll outlasts its interval is
polled again and again, beside a quick one (`newswatch run` as a real subprocess)."""

from __future__ import annotations

import itertools
import textwrap
import time
from pathlib import Path

import pytest

from support.cli import Daemon
from support.feeds import Item, rss
from support.feedserver import FeedServer

pytestmark = pytest.mark.slow

BIG_ITEMS = 1000
POLLS = 3  # fetches of the big feed to wait for (before the fix: 1, then never again)
WITHIN = 60.0  # seconds; one poll of the big feed takes ~5 s here


WORDS = [
    "council", "minister", "budget", "river", "school", "hospital", "railway", "election",
    "court", "harvest", "bridge", "factory", "museum", "festival", "weather", "market",
    "police", "border", "station", "theatre", "library",
]  # fmt: skip


def _text(batch: int, n: int) -> str:
    """About 3 KB of text that differs from every other item's (so that each one costs a
    story signature of its own)."""
    words = [WORDS[(batch * 7 + n * 13 + i * i) % len(WORDS)] for i in range(450)]
    return f"Report {batch}-{n}: " + " ".join(words)


def big_feed(counter: itertools.count[int]) -> bytes:
    """1,000 items that are all new on every fetch: their signatures, matching and storing
    take longer than the feed's 1 s interval."""
    batch = next(counter)
    items = [
        Item(
            guid=f"b{batch}-{n}",
            title=f"Minsk council report {batch} number {n}",
            link=f"https://big.example/{batch}/{n}",
            summary=_text(batch, n),
        )
        for n in range(BIG_ITEMS)
    ]
    return rss("Big", items)


def test_feed_whose_poll_outlasts_its_interval_keeps_being_polled(tmp_path: Path) -> None:
    """With `interval: 1s`, a feed of 1,000 changing items (processing takes more than 1 s)
    is polled again and again, not once and then never again, while a small feed goes on."""
    counter = itertools.count()
    with FeedServer() as feeds:
        feeds.add("/big", b"", fresh=lambda: big_feed(counter))
        feeds.add("/small", rss("Small", [Item(guid="s", title="Quiet", link="https://s/1")]))
        config = tmp_path / "watchlist.yaml"
        config.write_text(
            textwrap.dedent(f"""\
            database: state.db
            poll: {{interval: 1s, timeout: 20s, first_run: all}}
            feeds:
              - url: {feeds.url("/big")}
              - url: {feeds.url("/small")}
            watches: [{{name: minsk, keywords: [Lukashenko]}}]
            destinations: [{{name: terminal, type: console}}]
            """)
        )
        daemon = Daemon(config)
        try:
            started = time.monotonic()
            feeds.wait_for("/big", POLLS, timeout=WITHIN)
            took = time.monotonic() - started
            small = feeds.count("/small")
        finally:
            assert daemon.stop() == 0
    assert small > POLLS, f"the small feed was fetched {small} times in {took:.0f} s"
    assert not any("maximum number of running instances" in line for line in daemon.lines)
