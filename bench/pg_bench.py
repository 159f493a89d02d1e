"""One, two and three ``newswatch run --once`` on one PostgreSQL database, counted at the
receiver: wall time, polls per second, POSTs and distinct Idempotency-Keys.

    .venv/bin/python bench/pg_bench.py [--feeds 500] [--items 20] [--instances 1 2 3]

Starts a throwaway PostgreSQL server (as the test suite does: Debian's binaries, a
temporary folder, 127.0.0.1), a fresh database per run, loopback feeds and one webhook.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.postgres import PgServer, server_bindir, server_owner
from support.shared import finish, once, world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    bindir, owner = server_bindir(), server_owner()
    if bindir is None:
        sys.exit("no PostgreSQL server binaries (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="newswatch-pg-"))
    if owner is not None:
        shutil.chown(root, owner)
    server = PgServer(bindir, root, owner)
    server.start()
    try:
        for n in args.instances:
            with (
                tempfile.TemporaryDirectory() as tmp,
                world(
                    Path(tmp), feeds=args.feeds, items=args.items, database=server.new_database()
                ) as w,
            ):
                started = time.monotonic()
                codes = [finish(p, 3600)[0] for p in [once(w) for _ in range(n)]]
                elapsed = time.monotonic() - started
                counted = w.count()
            print(
                f"{n} instance(s): {elapsed:.1f} s, {counted.fetches / elapsed:.1f} polls/s,"
                f" {counted.posts / elapsed:.0f} alerts/s; exit {codes}; {counted.line()}",
                flush=True,
            )
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
