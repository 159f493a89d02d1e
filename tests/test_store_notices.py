"""Health notices stored as notices (m008), and databases from before keeping theirs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from newswatch.models import Article, Hit, Match
from newswatch.store import (
    FeedUpdate,
    HealthChange,
    HealthNotice,
    HealthRules,
    PendingAlert,
    SQLiteStore,
    migrations,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
FEED = "https://a.example/rss"
GONE = HealthNotice("feed health", "Wire is gone (HTTP 410)", "The server says the feed…")


def old_notice(db: sqlite_utils.Database, feed_id: int, notice: HealthNotice) -> str:
    """Queue a notice for 'hook' as the store did before m008: an article of its own under
    a 'newswatch:notice:' key, in a story of its own, behind an alert of kind health."""
    iso = NOW.isoformat(timespec="microseconds")
    story = db.execute("INSERT INTO stories (created_at, last_seen_at) VALUES (?, ?)", [iso, iso])
    article = db.execute(
        "INSERT INTO articles (feed_id, story_id, entry_key, title, summary, seen_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [feed_id, story.lastrowid, f"newswatch:notice:{uuid.uuid4().hex}", notice.title,
         notice.detail, iso],
    )  # fmt: skip
    alert_id = uuid.uuid4().hex
    db.execute(
        "INSERT INTO alerts (id, watch, story_id, article_id, matched, snippet, created_at,"
        " kind) VALUES (?, ?, ?, ?, '[]', ?, ?, 'health')",
        [alert_id, notice.watch, story.lastrowid, article.lastrowid, notice.detail, iso],
    )
    db.execute(
        "INSERT INTO deliveries (alert_id, destination, next_attempt_at, created_at)"
        " VALUES (?, 'hook', ?, ?)",
        [alert_id, iso, iso],
    )
    return alert_id


def pending() -> PendingAlert:
    hit = Hit(term="Belarus", field="title", start=0, end=7, text="Belarus")
    return PendingAlert(Match("belarus", (hit,), "Belarus …"), ("hook",))


def old_database(path: Path) -> str:
    """A database made by the schema before m008 (through m007): one article with its
    alert, and one health notice, both pending for 'hook'. Returns the notice's alert id."""
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m008_notices")
    db.execute("INSERT INTO feeds (url, current_url, name) VALUES (?, ?, 'Wire')", [FEED, FEED])
    iso = NOW.isoformat(timespec="microseconds")
    db.execute("INSERT INTO stories (id, created_at, last_seen_at) VALUES (7, ?, ?)", [iso, iso])
    db.execute(
        "INSERT INTO articles (id, feed_id, story_id, entry_key, link, link_key, title, seen_at)"
        " VALUES (3, 1, 7, 'e1', 'https://n.example/1', 'https://n.example/1', 'Belarus', ?)",
        [iso],
    )
    db.execute(
        "INSERT INTO entries (feed_id, entry_key, article_id, seen_at) VALUES (1, 'e1', 3, ?)",
        [iso],
    )
    db.execute(
        "INSERT INTO alerts (id, watch, story_id, article_id, matched, snippet, created_at)"
        " VALUES ('art', 'belarus', 7, 3, '[]', 'Belarus …', ?)",
        [iso],
    )
    db.execute(
        "INSERT INTO deliveries (alert_id, destination, next_attempt_at, created_at)"
        " VALUES ('art', 'hook', ?, ?)",
        [iso, iso],
    )
    notice = old_notice(db, 1, GONE)
    db.conn.commit()
    db.close()
    return notice


def test_migration_keeps_pending_notice_deliveries(tmp_path: Path) -> None:
    """After m008 a notice queued by the old schema is still due, rendered as before."""
    notice_id = old_database(tmp_path / "nw.db")
    with SQLiteStore(tmp_path / "nw.db") as store:
        due = {d.alert.id: d for d in store.due_for("hook", NOW)}
        assert set(due) == {"art", notice_id}
        notice = due[notice_id].alert
        assert (notice.kind, notice.watch, notice.snippet) == ("health", GONE.watch, GONE.detail)
        assert (notice.article.title, notice.article.summary) == (GONE.title, GONE.detail)
        assert (notice.article.link, notice.feed.name) == (None, "Wire")
        assert (notice.matched, notice.also, notice.thread_id) == ((), (), None)
        assert due["art"].alert.article.title == "Belarus"


def test_migration_moves_notices_out_of_articles_and_stories(tmp_path: Path) -> None:
    """After m008 the notice is a row of ``notices``; no fake article or story is left."""
    old_database(tmp_path / "nw.db")
    with SQLiteStore(tmp_path / "nw.db") as store:
        rows = store.db.execute("SELECT feed_id, health, title, detail FROM notices").fetchall()
        assert rows == [(1, None, GONE.title, GONE.detail)]
        assert store.db.execute("SELECT id FROM articles").fetchall() == [(3,)]
        assert store.db.execute("SELECT id FROM stories").fetchall() == [(7,)]
        assert [s.article.entry_key for s in store.articles_since(None)] == ["e1"]


def test_a_notice_is_stored_with_its_feed_and_health(tmp_path: Path) -> None:
    """A poll that changes a feed's health stores a notice row and its alert refers to it."""
    rules = HealthRules(lambda state: HealthChange("gone", GONE), ("hook",))
    with SQLiteStore(tmp_path / "nw.db") as store:
        record = store.commit_fetch(FEED, FeedUpdate(False, 410, gone=True), NOW, rules)
        assert record.notice is not None and record.health == HealthChange("gone", GONE)
        row = store.db.execute(
            "SELECT n.health, n.title, al.article_id, al.story_id FROM alerts al"
            " JOIN notices n ON n.id = al.notice_id WHERE al.id = ?",
            [record.notice],
        ).fetchone()
        assert row == ("gone", GONE.title, None, None)
        assert store.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 0
        assert store.feed_state(FEED).health == "gone"


def test_a_health_change_without_destinations_queues_nothing(tmp_path: Path) -> None:
    """Without health.notify the new health is recorded and no notice is stored."""
    rules = HealthRules(lambda state: HealthChange("gone", GONE))
    with SQLiteStore(tmp_path / "nw.db") as store:
        record = store.commit_fetch(FEED, FeedUpdate(False, 410, gone=True), NOW, rules)
        assert record.notice is None and store.feed_state(FEED).health == "gone"
        assert store.db.execute("SELECT COUNT(*) FROM notices").fetchone()[0] == 0


def test_health_is_judged_on_the_state_the_poll_left(tmp_path: Path) -> None:
    """The judge sees the feed state as updated by the same commit (here: a new item)."""
    seen = []

    def judge(state: object) -> None:
        seen.append(state)

    article = Article(feed_url=FEED, entry_key="1", link=None, link_key=None, title="Belarus")
    with SQLiteStore(tmp_path / "nw.db") as store:
        store.commit_poll(
            FEED, FeedUpdate(True, 200), [article], {"1": [pending()]}, NOW,
            health=HealthRules(judge),
        )  # fmt: skip
    (state,) = seen
    assert (state.items_seen, state.last_new_item_at, state.last_status) == (1, NOW, 200)


def test_prune_forgets_notices_whose_alert_is_gone(tmp_path: Path) -> None:
    """A delivered notice goes with its alert once older than retention."""
    rules = HealthRules(lambda state: HealthChange("gone", GONE), ("hook",))
    with SQLiteStore(tmp_path / "nw.db") as store:
        store.commit_fetch(FEED, FeedUpdate(False, 410, gone=True), NOW, rules)
        (delivery,) = store.due_for("hook", NOW)
        store.mark_sent(delivery.id, NOW)
        later = NOW + timedelta(days=40)
        assert store.prune(later - timedelta(days=30), later).alerts == 1
        assert store.db.execute("SELECT COUNT(*) FROM notices").fetchone()[0] == 0
