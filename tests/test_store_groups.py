"""Polls' writes that queue up behind a busy store thread commit as one group
(``AsyncStore`` + ``Base.group``): one transaction, results only after its commit, and a
failing write costs only itself (the group is rolled back and each write runs alone)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from newswatch.models import Article, FeedState
from newswatch.store import AsyncStore, FeedUpdate, HealthRules, SQLiteStore, Store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
OK = FeedUpdate(success=True, status=200)


def article(feed: int) -> Article:
    return Article(
        feed_url=f"https://feed{feed}.example/rss",
        entry_key=f"e{feed}",
        title=f"Story {feed}",
        link=f"https://feed{feed}.example/{feed}",
        link_key=f"feed{feed}.example/{feed}",
    )


def judge_and_fail(state: FeedState) -> None:
    raise RuntimeError("a write that fails half-way")


def run(path: Path, failing: bool) -> tuple[list[object], list[int], list[str]]:
    """Five polls and a fetch (and, with ``failing``, a poll that fails after storing
    its article) queued behind a busy store thread."""
    statements: list[str] = []
    release = threading.Event()

    def busy(store: SQLiteStore) -> None:
        store.db.conn.set_trace_callback(
            lambda sql: statements.append(sql) if sql.startswith(("BEGIN", "COMMIT")) else None
        )
        release.wait(10)

    async def main() -> tuple[list[object], list[int]]:
        store = await AsyncStore(path).open()
        try:
            blocker = asyncio.ensure_future(store.call(busy))
            await asyncio.sleep(0.2)
            writes = [
                store.call(Store.commit_poll, article(n).feed_url, OK, [article(n)], {}, NOW)
                for n in range(5)
            ]
            writes.append(store.call(Store.commit_fetch, "https://feed9.example/rss", OK, NOW))
            if failing:
                bad, rules = article(7), HealthRules(judge_and_fail, ())
                writes.append(
                    store.call(Store.commit_poll, bad.feed_url, OK, [bad], {}, NOW, health=rules)
                )
            tasks = [asyncio.ensure_future(w) for w in writes]
            await asyncio.sleep(0.2)
            assert not any(t.done() for t in tasks)  # nobody hears of a write before its commit
            release.set()
            await blocker
            results = await asyncio.gather(*tasks, return_exceptions=True)
            return list(results), list(store.groups)
        finally:
            await store.close()

    results, groups = asyncio.run(main())
    return results, groups, statements


def stored(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        query = "SELECT f.url FROM articles a JOIN feeds f ON f.id = a.feed_id"
        return {url for (url,) in db.execute(query)}


def test_writes_queued_together_commit_in_one_transaction(tmp_path: Path) -> None:
    results, groups, statements = run(tmp_path / "nw.db", failing=False)
    assert groups == [6]
    assert not any(isinstance(r, BaseException) for r in results)
    assert statements.count("BEGIN IMMEDIATE") == 1 and statements.count("COMMIT") == 1
    assert stored(tmp_path / "nw.db") == {article(n).feed_url for n in range(5)}


def test_a_failing_write_in_a_group_costs_only_itself(tmp_path: Path) -> None:
    results, groups, statements = run(tmp_path / "nw.db", failing=True)
    assert groups == [7]
    assert not any(isinstance(r, BaseException) for r in results[:6])
    assert isinstance(results[6], RuntimeError)
    # the group, rolled back, then each of the seven alone (six commit, one rolls back)
    assert statements.count("BEGIN IMMEDIATE") == 8 and statements.count("COMMIT") == 6
    assert stored(tmp_path / "nw.db") == {article(n).feed_url for n in range(5)}
    with sqlite3.connect(tmp_path / "nw.db") as db:
        fetched = "SELECT last_status FROM feeds WHERE url = 'https://feed9.example/rss'"
        assert db.execute(fetched).fetchone() == (200,)
