"""The pipeline's own decisions: first-run cutoff, watch scoping, polling outcomes."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newswatch.config import Settings
from newswatch.models import Article, FeedState
from newswatch.pipeline.poll import alertable, poll_feed
from newswatch.pipeline.runtime import open_runtime
from newswatch.store import SQLiteStore, Store
from newswatch.waits import backoff
from support.feeds import Item, rss
from support.feedserver import FeedServer

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def art(key: str, published: datetime | None) -> Article:
    return Article(
        feed_url="f", entry_key=key, link=None, link_key=None, title=key, published=published
    )


def settings(**poll: object) -> Settings:
    return Settings(poll=poll)  # type: ignore[arg-type]


def test_first_fetch_alerts_only_recent_items() -> None:
    """On a feed's first fetch, only items newer than first_run may alert; undated count old."""
    items = [
        art("new", NOW - timedelta(hours=1)),
        art("old", NOW - timedelta(days=3)),
        art("undated", None),
    ]
    fresh = FeedState(url="f", current_url="f")
    keys = [a.entry_key for a in alertable(items, fresh, settings(first_run="24h"), NOW)]
    assert keys == ["new"]


def test_first_run_all_and_none() -> None:
    """first_run: all alerts everything on the first fetch; none alerts nothing."""
    items = [art("old", NOW - timedelta(days=30))]
    fresh = FeedState(url="f", current_url="f")
    assert alertable(items, fresh, settings(first_run="all"), NOW) == items
    assert alertable(items, fresh, settings(first_run="none"), NOW) == []


def test_after_first_success_every_new_item_may_alert() -> None:
    """Once a feed has been fetched successfully, age no longer matters."""
    items = [art("old", NOW - timedelta(days=30)), art("undated", None)]
    known = FeedState(url="f", current_url="f", last_success_at=NOW - timedelta(hours=1))
    assert alertable(items, known, settings(first_run="none"), NOW) == items


def test_backoff_doubles_and_caps_at_six_hours() -> None:
    """Backoff after failures doubles from the interval and stops at 6 h."""
    interval = timedelta(minutes=5)
    assert [backoff(interval, n) for n in (1, 2, 3)] == [interval, 2 * interval, 4 * interval]
    assert backoff(interval, 50) == timedelta(hours=6)


def test_watch_feeds_scope_by_name_or_url() -> None:
    """A watch's `feeds` list names feeds by configured name or by URL."""
    s = Settings(
        feeds=[{"url": "https://a.example/rss", "name": "A"}, {"url": "https://b.example/rss"}],
        watches=[
            {"name": "w", "keywords": ["x"], "feeds": ["A", "https://b.example/rss"]},
            {"name": "v", "keywords": ["x"], "feeds": ["A"]},
        ],
    )
    a, b = s.feeds
    w, v = s.watches
    assert s.watch_covers(w, a.url) and s.watch_covers(w, b.url)
    assert s.watch_covers(v, a.url) and not s.watch_covers(v, b.url)


def poll_once(tmp_path: Path, url: str, first_run: str = "all") -> tuple[str, FeedState]:
    """Poll one feed through the real pipeline; return the report status and feed state."""
    s = Settings(
        database=tmp_path / "nw.db",
        poll={"first_run": first_run, "timeout": "5s"},
        feeds=[{"url": url}],
        watches=[{"name": "w", "keywords": ["Lukashenko"]}],
        destinations=[{"name": "out", "type": "console"}],
    )

    async def go() -> tuple[str, FeedState]:
        async with open_runtime(s, clock=lambda: datetime.now(UTC), stdout=io.StringIO()) as rt:
            report = await poll_feed(rt, s.feeds[0])
            return report.status, await rt.store.call(Store.feed_state, url)

    return asyncio.run(go())


def test_gone_feed_is_recorded_and_not_polled_again(tmp_path: Path) -> None:
    """A 410 marks the feed gone; the next poll skips it without a request."""
    with FeedServer() as server:
        server.add("/rss", b"gone", status=410)
        status, state = poll_once(tmp_path, server.url("/rss"))
        assert (status, state.gone, state.last_status) == ("gone", True, 410)
        status, _ = poll_once(tmp_path, server.url("/rss"))
        assert status == "skipped" and server.count("/rss") == 1


def test_not_a_feed_is_recorded_as_failure_with_reason(tmp_path: Path) -> None:
    """An HTML page instead of a feed is an error with a reason and an error streak."""
    with FeedServer() as server:
        server.add("/rss", b"<html><body>Welcome</body></html>", content_type="text/html")
        status, state = poll_once(tmp_path, server.url("/rss"))
    assert status == "ok"  # the fetch itself worked
    assert state.error_streak == 1 and state.last_error is not None
    assert state.last_error == "not a feed: the document is an HTML page"
    assert state.backoff_until is not None


def test_success_after_failure_resets_streak(tmp_path: Path) -> None:
    """The first success after errors resets the streak and stores the ETag."""
    with FeedServer() as server:
        server.add("/rss", b"oops", status=500)
        _, failed = poll_once(tmp_path, server.url("/rss"))
        assert failed.error_streak == 1
        with SQLiteStore(tmp_path / "nw.db") as store:  # the backoff would skip the next poll
            store.db.execute("UPDATE feeds SET backoff_until = NULL")
        server.add("/rss", rss("W", [Item("1", "Lukashenko", "https://n.example/1")]), etag='"e"')
        _, ok = poll_once(tmp_path, server.url("/rss"))
    assert (ok.error_streak, ok.last_error, ok.etag, ok.items_seen) == (0, None, '"e"', 1)
