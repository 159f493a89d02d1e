"""Retention: old article text is pruned, identities (tombstones) are kept while needed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newswatch.models import Article, Hit, Match
from newswatch.store import FeedUpdate, PendingAlert, PruneReport, SQLiteStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)
KEEP = timedelta(days=30)
FEED = "https://a.example/rss"
OTHER = "https://b.example/rss"
OK = FeedUpdate(success=True, status=200)


def article(key: str, feed: str = FEED) -> Article:
    link = f"https://news.example/{key}"
    return Article(feed_url=feed, entry_key=key, link=link, link_key=link, title=f"title {key}")


def alert_for(key: str) -> dict[str, list[PendingAlert]]:
    hit = Hit(term="t", field="title", start=0, end=1, text="t")
    return {key: [PendingAlert(Match("w", (hit,), "t"), ("hook",))]}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "nw.db")
    yield s
    s.close()


def count(store: SQLiteStore, table: str) -> int:
    return int(store.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def poll(store: SQLiteStore, keys: list[str], when: datetime) -> None:
    """What the pipeline does with a parsed document holding these entries."""
    candidates = store.unseen(FEED, [article(k) for k in keys])
    store.commit_poll(FEED, OK, candidates, {}, when, document=keys)


def test_old_article_becomes_a_tombstone_and_stays_known(store: SQLiteStore) -> None:
    """Pruned text is gone, but the entry and its link are still known: never new again."""
    poll(store, ["1"], T0)
    now = T0 + KEEP + timedelta(days=1)
    report = store.prune(now - KEEP, now)
    assert report.tombstoned == 1
    row = store.db.execute("SELECT title, link, link_key FROM articles").fetchone()
    assert row == ("", None, "https://news.example/1")
    assert store.unseen(FEED, [article("1")]) == []
    assert store.unseen(OTHER, [article("1", OTHER)]) == []  # same link in another feed
    assert store.articles_since(None) == []


def test_recent_article_is_kept_whole(store: SQLiteStore) -> None:
    """Articles younger than the retention period are untouched."""
    store.commit_poll(FEED, OK, [article("1")], {}, T0)
    assert store.prune(T0 - KEEP, T0 + timedelta(days=1)).tombstoned == 0
    assert [a.article.title for a in store.articles_since(None)] == ["title 1"]


def test_tombstone_still_in_the_feed_is_kept(store: SQLiteStore) -> None:
    """A tombstone whose entry the feed still shows is never forgotten."""
    poll(store, ["1"], T0)
    later = T0 + 3 * KEEP
    poll(store, ["1", "2"], later)
    assert store.prune(later - KEEP, later) == PruneReport(tombstoned=1)
    assert store.unseen(FEED, [article("1")]) == []


def test_tombstone_of_an_unchanged_feed_is_kept(store: SQLiteStore) -> None:
    """A feed that answered only 304 since still holds its entries: nothing is forgotten."""
    poll(store, ["1"], T0)
    later = T0 + 3 * KEEP
    store.commit_fetch(FEED, FeedUpdate(True, 304), later)
    assert store.prune(later - KEEP, later) == PruneReport(tombstoned=1)


def test_tombstone_gone_from_every_feed_is_forgotten(store: SQLiteStore) -> None:
    """A tombstone missing from its feed for the retention period is deleted, with its
    story."""
    poll(store, ["1"], T0)
    poll(store, ["2"], T0 + timedelta(days=1))
    now = T0 + 2 * KEEP
    poll(store, ["2"], now)
    assert store.prune(now - KEEP, now) == PruneReport(tombstoned=2, forgotten=1)
    counts = (count(store, "articles"), count(store, "entries"), count(store, "stories"))
    assert counts == (1, 1, 1)
    assert store.unseen(FEED, [article("2")]) == []


def test_old_sent_alerts_are_deleted_but_pending_ones_kept(store: SQLiteStore) -> None:
    """Finished alerts older than the period go; an alert still owed stays, whole."""
    store.commit_poll(FEED, OK, [article("1")], alert_for("1"), T0)
    store.commit_poll(FEED, OK, [article("2")], alert_for("2"), T0)
    sent = next(d for d in store.due_deliveries(T0) if d.alert.article.entry_key == "1")
    store.mark_sent(sent.id, T0)
    now = T0 + 2 * KEEP
    report = store.prune(now - KEEP, now)
    assert (report.alerts, report.tombstoned) == (1, 1)
    (left,) = store.due_deliveries(now)
    assert left.alert.article.title == "title 2"


def test_warning_is_kept_until_the_next_parsed_document(store: SQLiteStore) -> None:
    """A parse warning survives a 304 and is cleared by a clean document."""
    store.commit_poll(FEED, FeedUpdate(True, 200, parsed=True, warning="bad charset"), [], {}, T0)
    store.commit_fetch(FEED, FeedUpdate(True, 304), T0)
    assert store.feed_state(FEED).warning == "bad charset"
    store.commit_poll(FEED, FeedUpdate(True, 200, parsed=True), [], {}, T0)
    assert store.feed_state(FEED).warning is None


def test_pruned_item_still_in_the_feed_never_alerts_again(tmp_path: Path) -> None:
    """End to end: an alerted item, pruned after the retention period while its feed still
    carries it, is not alerted again; a new item in the same feed is."""
    import asyncio
    import io

    from newswatch.config import loads_config
    from newswatch.pipeline.once import run_once
    from support.feeds import Item, rss
    from support.feedserver import FeedServer

    story = Item(guid="s1", title="Lukashenko speaks", link="https://n.example/1", published=T0)
    with FeedServer() as server:
        config = f"""\
database: {tmp_path / "state.db"}
retention: 30d
poll: {{first_run: all}}
feeds: [{{url: "{server.url("/rss")}"}}]
watches: [{{name: w, keywords: [Lukashenko]}}]
destinations: [{{name: out, type: console}}]
"""
        settings = loads_config(config, tmp_path / "w.yaml", {})

        def once(when: datetime) -> str:
            out = io.StringIO()
            asyncio.run(run_once(settings, clock=lambda: when, stdout=out))
            return out.getvalue()

        server.add("/rss", rss("Wire", [story]))
        assert "Lukashenko speaks" in once(T0)
        assert once(T0 + timedelta(days=100)) == ""  # unchanged feed; s1 is pruned after
        later = Item(guid="s2", title="Lukashenko again", link="https://n.example/2")
        server.add("/rss", rss("Wire", [later, story]))
        printed = once(T0 + timedelta(days=101))
    assert "Lukashenko again" in printed
    assert "Lukashenko speaks" not in printed
    store = SQLiteStore(tmp_path / "state.db")
    try:
        rows = store.db.execute("SELECT entry_key, title, pruned_at IS NOT NULL FROM articles")
        assert sorted(rows) == [("s1", "", 1), ("s2", "Lukashenko again", 0)]
    finally:
        store.close()
