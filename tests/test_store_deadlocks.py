"""Lock order on PostgreSQL (the session's real server): a reload (``ensure_feeds``)
while another instance renews or retires its claims never deadlocks, and a write the
server aborts to break a deadlock is retried whole."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg

from newswatch.store import Instance
from newswatch.store.postgres import PostgresStore

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)
B = Instance("bbbb", 202, "host-b", T0)
FEEDS = 150
# Created in descending URL order, so the feeds' ids (and their rows on disk) run
# against the order of the configuration, which lists them by URL.
URLS = [f"https://feeds.example/{n:04d}.xml" for n in range(FEEDS)]


def _setup(url: str, *, retries: int) -> tuple[PostgresStore, PostgresStore]:
    """A reloading instance and B, which holds a claim on every feed."""
    reloader = PostgresStore(url, deadlock_retries=retries)
    renewer = PostgresStore(url, deadlock_retries=retries)
    reloader.ensure_feeds([(u, "") for u in reversed(URLS)])
    renewer.register_instance(B, T0, T0 + LEASE)
    for u in URLS:
        assert renewer.claim_feed(u, B, T0, T0 + LEASE).claimed
    return reloader, renewer


def _race(work: dict[str, Callable[[int], object]], seconds: float) -> list[BaseException]:
    """Run each ``work(n)`` in a loop in a thread of its own for ``seconds``; the errors."""
    errors: list[BaseException] = []
    deadline = time.monotonic() + seconds

    def loop(step: Callable[[int], object]) -> None:
        n = 0
        while time.monotonic() < deadline and not errors:
            try:
                step(n)
            except Exception as exc:
                errors.append(exc)
            n += 1

    threads = [threading.Thread(target=loop, args=(w,)) for w in work.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_a_reload_beside_another_instances_renewals_never_deadlocks(pg_url: str) -> None:
    """Renaming every feed (a reload) while B renews and re-extends its 150 claims, with
    the deadlock retry off: the writes take the rows in one order, so none is aborted."""
    reloader, renewer = _setup(pg_url, retries=0)
    try:

        def reload(n: int) -> None:
            reloader.ensure_feeds([(u, f"Feed {u[-8:-4]} v{n}") for u in URLS])

        def renew(n: int) -> None:
            now = T0 + timedelta(seconds=n)
            renewer.renew_instance(B, now, now + LEASE)

        errors = _race({"reload": reload, "renew": renew}, seconds=4.0)
    finally:
        reloader.close()
        renewer.close()
    assert errors == []


def test_a_reload_that_renames_nothing_takes_no_row_locks(pg_url: str) -> None:
    """With the feeds' names unchanged, ``ensure_feeds`` writes nothing: a row another
    transaction holds does not make it wait."""
    reloader, renewer = _setup(pg_url, retries=0)
    feeds = [(u, "") for u in URLS]
    try:
        with psycopg.connect(pg_url) as holder:
            holder.execute("SELECT id FROM feeds WHERE url = %s FOR UPDATE", [URLS[7]])
            done = threading.Event()
            worker = threading.Thread(target=lambda: (reloader.ensure_feeds(feeds), done.set()))
            worker.start()
            assert done.wait(10), "ensure_feeds waited for a row it does not change"
            worker.join()
    finally:
        reloader.close()
        renewer.close()


def _wait_for_lock_wait(url: str, besides: int) -> None:
    """Until a backend other than ``besides`` waits for a row lock."""
    with psycopg.connect(url, autocommit=True) as watcher:
        for _ in range(200):
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND pid != %s AND datname = current_database()",
                [besides],
            ).fetchone()
            if row and row[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the store's write never waited for the lock")


def test_a_write_aborted_to_break_a_deadlock_is_retried_whole(pg_url: str) -> None:
    """Another session and ``ensure_feeds`` each hold a row the other wants: the server
    aborts the store's write (the other session waits longer before it checks), the
    store runs it again once the other committed, and both renames are in."""
    store = PostgresStore(pg_url)
    first, second = URLS[0], URLS[1]
    store.ensure_feeds([(first, ""), (second, "")])
    failed: list[BaseException] = []
    try:
        with psycopg.connect(pg_url) as other:
            other.execute("SET deadlock_timeout = '20s'")
            pid = other.info.backend_pid
            other.execute("UPDATE feeds SET title = 'other' WHERE url = %s", [second])

            def rename() -> None:
                try:
                    store.ensure_feeds([(first, "One"), (second, "Two")])
                except Exception as exc:
                    failed.append(exc)

            worker = threading.Thread(target=rename)
            worker.start()
            _wait_for_lock_wait(pg_url, besides=pid)  # the store holds `first`, wants `second`
            other.execute("UPDATE feeds SET title = 'other' WHERE url = %s", [first])
            other.commit()
            worker.join(30)
        names = {r["url"]: r["name"] for r in store.query("SELECT url, name FROM feeds")}
    finally:
        store.close()
    assert failed == []
    assert (names[first], names[second]) == ("One", "Two")
