"""kill -9 of the daemon at random points of a burst of alerts, many times over.

    .venv/bin/python bench/kill9_bench.py [--runs 20] [--alerts 40] [--seed N]

Each run starts ``newswatch run`` on a feed of N matching items and a slow webhook
receiver on 127.0.0.1 (30 ms an answer), sends SIGKILL after a random number of
requests plus a random 0-30 ms, restarts the daemon, and waits until every alert
arrived. A run passes when all N alerts arrived, every request's Idempotency-Key is
the alert id in its body, at most one alert arrived twice, and the outbox ends with N
rows "sent". Prints one line per run and a summary.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.crash import kill_during_burst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--alerts", type=int, default=40)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    passed = duplicated = 0
    for run in range(1, args.runs + 1):
        kill_after = rng.randint(1, args.alerts - 1)
        extra = rng.uniform(0, 0.03)
        with tempfile.TemporaryDirectory() as tmp:
            r = kill_during_burst(
                Path(tmp), alerts=args.alerts, kill_after=kill_after, extra_delay=extra
            )
        extra_copies = sum(n - 1 for n in r.duplicates.values())
        ok = (
            r.distinct == r.alerts
            and extra_copies <= 1
            and r.keys_match_bodies
            and r.states == {"sent": r.alerts}
        )
        passed += ok
        duplicated += extra_copies
        print(
            f"run {run:2}: killed after {r.killed_after:2} requests (+{extra * 1000:4.1f} ms): "
            f"{r.distinct}/{r.alerts} alerts, {r.received} requests, "
            f"{extra_copies} duplicate(s) with the same key, outbox {r.states}: "
            f"{'ok' if ok else 'FAILED'}",
            flush=True,
        )
    print(
        f"{passed}/{args.runs} runs passed; {duplicated} duplicate deliveries in total "
        f"(at most one per kill allowed, always under the same Idempotency-Key)"
    )
    sys.exit(0 if passed == args.runs else 1)


if __name__ == "__main__":
    main()
