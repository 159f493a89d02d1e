"""`newswatch run --once` over N local feeds × M items: wall time and peak memory.

Serves generated RSS feeds (items with ~3 KB of HTML each, a few matching the watch) on
127.0.0.1, runs the real CLI in a subprocess twice (a cold first pass, then a pass where
every feed answers 304), and samples the RSS of the whole process tree (newswatch and its
parser workers) every 20 ms.

    .venv/bin/python bench/once_bench.py [--feeds 100] [--items 20]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import psutil

from newswatch.demo import serve_feeds

WORDS = [
    "government",
    "minister",
    "economy",
    "report",
    "election",
    "protest",
    "court",
    "market",
    "energy",
    "border",
    "agency",
    "statement",
    "region",
    "security",
    "officials",
    "policy",
    "talks",
    "week",
    "city",
    "capital",
    "press",
    "council",
    "vote",
    "budget",
    "trade",
    "union",
    "army",
    "border",
    "crossing",
    "sanctions",
    "opposition",
    "journalist",
]


def paragraph(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def item(rng: random.Random, feed: int, n: int, now: datetime) -> str:
    body = "".join(f"<p>{paragraph(rng, 60)}</p>" for _ in range(7))  # ~3 KB of HTML
    title = paragraph(rng, 8)
    if n % 10 == 0:
        title = f"Lukashenko {title}"
    when = format_datetime(now - timedelta(minutes=n + feed), usegmt=True)
    return (
        f"<item><title>{title}</title><link>https://outlet{feed}.example/a/{n}</link>"
        f"<guid>https://outlet{feed}.example/a/{n}</guid><pubDate>{when}</pubDate>"
        f"<description><![CDATA[{body}]]></description></item>"
    )


def feed(rng: random.Random, index: int, items: int, now: datetime) -> bytes:
    entries = "".join(item(rng, index, n, now) for n in range(items))
    return (
        f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Outlet {index}</title><link>https://outlet{index}.example/</link>"
        f"<description>bench</description>{entries}</channel></rss>"
    ).encode()


def run(config: Path) -> tuple[float, float, str]:
    """Run `run --once`; return wall seconds, peak tree RSS in MiB, and its summary line."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "newswatch", "--config", str(config), "run", "--once"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    parent = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [parent, *parent.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    stderr = proc.stderr.read() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"newswatch failed ({proc.returncode}):\n{stderr}")
    summary = next((line for line in stderr.splitlines() if line.startswith("polled")), "")
    return elapsed, peak / 2**20, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--items", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(42)
    now = datetime.now(UTC)
    feeds = {
        f"f{i}.xml": (feed(rng, i, args.items, now), "application/rss+xml")
        for i in range(args.feeds)
    }
    size = sum(len(b) for b, _ in feeds.values())
    with serve_feeds(feeds) as base, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "watchlist.yaml"
        lines = [
            "database: bench.db",
            "poll: {first_run: all}",
            "feeds:",
            *(f"  - url: {base}{name}" for name in feeds),
            "watches:",
            "  - name: belarus",
            "    keywords: [Lukashenko, Belarus, Minsk, leaked documents]",
            "destinations: [{name: out, type: console}]",
        ]
        config.write_text("\n".join(lines) + "\n")
        print(
            f"{args.feeds} feeds × {args.items} items, {size / 2**20:.1f} MiB of XML, "
            f"machine: {psutil.cpu_count()} cores"
        )
        for label in ("first pass (all new)", "second pass (304)"):
            elapsed, peak, summary = run(config)
            print(f"{label:22} {elapsed:6.2f} s wall, peak RSS {peak:6.1f} MiB (process tree)")
            print(f"{'':22} {summary}")


if __name__ == "__main__":
    main()
