"""The physical floor of a cold pass on this machine (issue 12): the CPU one process spends
per loopback GET with httpx (our Fetcher, and a bare ``httpx.AsyncClient``), per parse of
one bench feed (lxml alone, and newswatch's whole parse to articles), per story signature
and per match of one article against the bench's 200 watches. CPU time of this process
(``time.process_time``), medians of ``--repeat`` rounds, so a loaded machine distorts it
less than wall time.

    .venv/bin/python bench/floor.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import coldpass
import httpx
from lxml import etree

from newswatch import cluster
from newswatch.app.clock import utcnow
from newswatch.config import load_config
from newswatch.fetch import Fetcher
from newswatch.match import compile_watchlist
from newswatch.parse import parse_feed
from support.feedserver import FeedServer


def cpu(fn: Callable[[], object], repeat: int) -> float:
    """Median CPU seconds of one call of ``fn`` over ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        started = time.process_time()
        fn()
        times.append(time.process_time() - started)
    return statistics.median(times)


def gets(urls: list[str]) -> tuple[float, float]:
    """CPU per GET: (newswatch's Fetcher, bare httpx.AsyncClient), all GETs at once."""

    async def ours() -> None:
        fetcher = Fetcher(timeout=30, max_bytes=10_000_000, concurrency=20, clock=utcnow)
        try:
            await asyncio.gather(*(fetcher.fetch(u) for u in urls))
        finally:
            await fetcher.aclose()

    async def bare() -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            await asyncio.gather(*(client.get(u) for u in urls))

    results = []
    for job in (ours, bare):
        asyncio.run(job())  # warm: imports, TLS-free pools
        started = time.process_time()
        asyncio.run(job())
        results.append((time.process_time() - started) / len(urls))
    return results[0], results[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    documents, pairs, _ = coldpass.corpus(args.feeds)
    feed = documents[0]
    with FeedServer() as server:
        for n, body in enumerate(documents):
            server.add(f"/feed/{n}", body)
        ours, bare = gets([server.url(f"/feed/{n}") for n in range(len(documents))])
    print(f"one GET of a {len(feed) / 1000:.0f} KB feed on loopback, CPU of the client:")
    print(f"  newswatch Fetcher   {ours * 1e3:6.2f} ms")
    print(f"  bare httpx          {bare * 1e3:6.2f} ms")
    lxml_only = cpu(lambda: etree.fromstring(feed), args.repeat)
    parsed = parse_feed(feed, feed_url="https://x.example/rss", content_type="application/rss+xml")
    ours_parse = cpu(
        lambda: parse_feed(
            feed, feed_url="https://x.example/rss", content_type="application/rss+xml"
        ),
        args.repeat,
    )
    articles = parsed.articles
    print(
        f"one feed of {len(articles)} items: lxml tree {lxml_only * 1e3:.2f} ms, "
        f"newswatch parse to articles {ours_parse * 1e3:.2f} ms"
    )
    sign = cpu(lambda: cluster.signatures(articles), args.repeat) / len(articles)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "nw.yaml"
        coldpass.newswatch_config(config, ["https://x.example/rss"], pairs, "http://127.0.0.1:9/")
        watchlist = compile_watchlist(load_config(config, os.environ))
    all_articles = [
        a
        for d in documents[1:51]
        for a in parse_feed(d, feed_url="https://x.example/r", content_type="text/xml").articles
    ]
    match = cpu(lambda: [watchlist.match(a) for a in all_articles], 3) / len(all_articles)
    print(
        f"per article: story signature {sign * 1e6:.0f} µs, "
        f"match against {len(pairs)} watches {match * 1e6:.0f} µs (caches cold)"
    )


if __name__ == "__main__":
    main()
