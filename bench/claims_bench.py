"""What the claims cost, timed over a real SQLite file (WAL, synchronous=NORMAL).

    .venv/bin/python bench/claims_bench.py [--number 2000]

Per poll: ``claim_feed`` (one short BEGIN IMMEDIATE write; it replaces the feed_state read
a poll made before, and the poll's own commit releases it). Per message: ``claim_unit``
(one short write; the outcome that releases it was written anyway). For scale, the
commit of a poll that brought nothing (``commit_fetch``) and a heartbeat (``renew``).
"""

from __future__ import annotations

import argparse
import tempfile
import timeit
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newswatch.models import Article, Match
from newswatch.store import FeedUpdate, Instance, PendingAlert, SQLiteStore

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
URL = "https://feeds.example/rss"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args()
    n = args.number
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "nw.db")
        me = Instance("bench", 1, "host", T0)
        store.register_instance(me, T0, T0 + timedelta(days=1))
        store.ensure_feeds([(URL, "Wire")])
        articles = [Article(URL, f"e{i}", None, None, f"t{i}") for i in range(n)]
        pending = {a.entry_key: [PendingAlert(Match("w", ()), ("hook",))] for a in articles}
        store.commit_poll(URL, FeedUpdate(success=True), articles, pending, T0)
        due = store.due_for("hook", T0, limit=n)
        store.assign_units({d.alert.id: [d.id] for d in due})
        units = iter([(d.id, d.alert.id) for d in due])
        until = T0 + timedelta(minutes=1)
        update = FeedUpdate(success=True, poller=me.id)

        def poll_claim() -> None:
            store.claim_feed(URL, me, T0, until)

        def fetch_commit() -> None:
            store.commit_fetch(URL, update, T0)

        def message_claim() -> None:
            d, unit = next(units)
            store.claim_unit([d], unit, me, T0, until)

        def renew() -> None:
            store.renew_instance(me, T0, until)

        for name, fn in [
            ("claim per poll (claim_feed)", poll_claim),
            ("poll commit without a document (commit_fetch), for scale", fetch_commit),
            ("claim per message (claim_unit)", message_claim),
            ("heartbeat (renew_instance), every 5 s", renew),
        ]:
            seconds = timeit.timeit(fn, number=n)
            print(f"{name}: {seconds / n * 1e6:.0f} µs")
        store.close()


if __name__ == "__main__":
    main()
