"""Benchmark: `newswatch run --once` over the hostile set and over many normal local feeds.

Prints the wall time and the peak RSS of the whole process tree (newswatch, its forkserver
and its parser workers, summed, sampled every 50 ms). Everything runs on 127.0.0.1.

    .venv/bin/python bench/run_once.py                 # hostile set, then 1,000 feeds
    .venv/bin/python bench/run_once.py --feeds 200 --items 50 --skip-hostile
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.feeds import Item, rss
from support.feedserver import FeedServer
from support.hostile import HostileServer, hostile_routes, normal_routes
from support.memory import measured_run_once

PARAGRAPH = (
    "<p>Officials in Minsk said on Tuesday that talks would continue next week, while "
    "observers noted that <a href='https://example.org/x'>earlier rounds</a> had stalled "
    "over sequencing and verification.</p>"
)


WORDS = [
    "minister",
    "talks",
    "border",
    "trade",
    "grain",
    "energy",
    "pipeline",
    "court",
    "ruling",
    "protest",
    "election",
    "budget",
    "bank",
    "currency",
    "army",
    "drill",
    "port",
    "rail",
    "strike",
    "union",
    "school",
    "hospital",
    "storm",
    "harvest",
    "festival",
    "museum",
    "bridge",
    "airport",
    "factory",
    "mine",
    "river",
    "forest",
    "village",
    "council",
    "mayor",
]


def distinct_text(seed: int) -> str:
    """About 3 KB of HTML whose words differ per article (identical texts would all be one
    story, the near-duplicate detector's worst case, which real feeds do not look like)."""
    rng = random.Random(seed)
    words = [rng.choice(WORDS) for _ in range(400)]
    return PARAGRAPH + "<p>" + " ".join(words) + "</p>"


def run_once(config: Path) -> tuple[float, int, str]:
    """Run `newswatch run --once`; (seconds, peak RSS bytes, summary line)."""
    run = measured_run_once(config, timeout=1800)
    if run.returncode != 0:
        raise SystemExit(f"run --once failed ({run.returncode}):\n{run.stderr}")
    lines = reversed(run.stderr.splitlines())
    return run.elapsed, run.peak, next((line for line in lines if "polled" in line), "")


def write_config(path: Path, feeds: list[str], timeout: str = "30s") -> None:
    lines = "\n".join(f"  - url: '{url}'" for url in feeds)
    path.write_text(
        textwrap.dedent("""\
        database: state.db
        poll: {interval: 5m, timeout: %s, first_run: all}
        feeds:
        %s
        watches:
          - name: belarus
            keywords: [Lukashenko, "leaked documents"]
        destinations:
          - name: console
            type: console
        """)
        % (timeout, lines)
    )


def hostile(tmp: Path) -> None:
    secret = tmp / "secret.txt"
    secret.write_text("TOPSECRET")
    routes = hostile_routes(str(secret))
    with HostileServer(routes) as bad, HostileServer(normal_routes()) as good:
        urls = [bad.url(path) for path in routes if not path.endswith("-2")]
        urls.append(good.url("/normal"))
        config = tmp / "hostile.yaml"
        write_config(config, urls, timeout="5s")
        elapsed, peak, summary = run_once(config)
    print(f"hostile set ({len(urls) - 1} hostile feeds + 1 normal, poll.timeout 5s):")
    print(f"  {elapsed:.1f} s, peak RSS {peak / 2**20:.0f} MiB; {summary}")


def normal(tmp: Path, count: int, items: int) -> None:
    with FeedServer() as server:
        for n in range(count):
            entries = [
                Item(
                    guid=f"f{n}-i{i}",
                    title=f"Feed {n} story {i}" + (" about Lukashenko" if i == 0 else ""),
                    link=f"https://news{n}.example/story/{i}",
                    summary=distinct_text(n * 1000 + i),
                )
                for i in range(items)
            ]
            server.add(f"/feed/{n}", rss(f"Feed {n}", entries), etag=f'"{n}"')
        size = sum(len(route.body) for route in server.routes.values())
        config = tmp / "normal.yaml"
        write_config(config, [server.url(f"/feed/{n}") for n in range(count)])
        first = run_once(config)
        second = run_once(config)
    print(f"{count} normal feeds x {items} items ({size / 1e6:.0f} MB of RSS, one host):")
    print(f"  first run:  {first[0]:.1f} s, peak RSS {first[1] / 2**20:.0f} MiB; {first[2]}")
    print(f"  second run (all 304): {second[0]:.1f} s, peak RSS {second[1] / 2**20:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--skip-hostile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_hostile:
            hostile(Path(tmp))
        if args.feeds:
            normal(Path(tmp), args.feeds, args.items)


if __name__ == "__main__":
    main()
