"""Two newswatch processes on one database, counted at the receiver.

    .venv/bin/python bench/shared_bench.py [--feeds 40] [--items 10] [--scenario all]

Scenarios (loopback feeds, one webhook receiver): ``beside`` starts the daemon and, as
soon as it runs, a ``run --once`` beside it; ``two`` starts two ``run --once`` together;
``kill`` runs two daemons on a slow receiver (50 ms an answer) and SIGKILLs one of them
mid-send. Prints POSTs, distinct Idempotency-Keys and alerts delivered more than once.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.shared import kill_mid_send, once_beside_daemon, two_at_once, world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--scenario", choices=["all", "beside", "two", "kill"], default="all")
    args = parser.parse_args()
    chosen = ["beside", "two", "kill"] if args.scenario == "all" else [args.scenario]
    for scenario in chosen:
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as tmp:
            delay = 0.05 if scenario == "kill" else 0.0
            with world(Path(tmp), feeds=args.feeds, items=args.items, answer_delay=delay) as w:
                if scenario == "beside":
                    counted = once_beside_daemon(w)[0]
                elif scenario == "two":
                    counted = two_at_once(w)[0]
                else:
                    counted = kill_mid_send(w, kill_after=5)
        print(f"{scenario:6}: {counted.line()} ({time.monotonic() - started:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
