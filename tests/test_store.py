"""The store: identities, the outbox, feed state, transactions — on a real SQLite file and a
real PostgreSQL database (``engine``)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newswatch.config import PostgresUrl
from newswatch.models import Article, DeliveryState, Hit, Match
from newswatch.store import FeedUpdate, PendingAlert, SQLiteStore, Store, migrations, open_store
from newswatch.store.pg_schema import MIGRATIONS
from support.engines import count

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
FEED_A = "https://a.example/rss"
FEED_B = "https://b.example/rss"


def article(key: str, link: str | None = None, feed: str = FEED_A, title: str = "t") -> Article:
    return Article(feed_url=feed, entry_key=key, link=link, link_key=link, title=title)


def pending(watch: str = "belarus", destinations: tuple[str, ...] = ("hook",)) -> PendingAlert:
    hit = Hit(term="Belarus", field="title", start=0, end=7, text="Belarus")
    return PendingAlert(Match(watch, (hit,), "Belarus …"), destinations)


OK = FeedUpdate(success=True, status=200)


@pytest.fixture
def store(new_store: Callable[[], Store]) -> Store:
    return new_store()


def test_new_article_is_recorded_once(store: Store) -> None:
    """An entry met twice in the same feed is new only the first time."""
    first = store.commit_poll(FEED_A, OK, [article("1")], {}, NOW)
    second = store.commit_poll(FEED_A, OK, [article("1")], {}, NOW)
    assert len(first.new_articles) == 1
    assert second.new_articles == ()


def test_same_link_in_other_feed_is_not_new(store: Store) -> None:
    """The same normalized link in another feed is the same article."""
    store.commit_poll(FEED_A, OK, [article("a1", "https://x.example/s")], {}, NOW)
    again = store.commit_poll(
        FEED_B, OK, [article("b9", "https://x.example/s", feed=FEED_B)], {"b9": [pending()]}, NOW
    )
    assert again.new_articles == ()
    assert again.alerts == ()


def test_unseen_prefilters_known_entries_and_links(store: Store) -> None:
    """unseen() drops entries known in this feed and links known anywhere."""
    store.commit_poll(FEED_A, OK, [article("1", "https://x.example/1")], {}, NOW)
    candidates = [article("1"), article("2", "https://x.example/1"), article("3")]
    assert [a.entry_key for a in store.unseen(FEED_A, candidates)] == ["3"]


def test_alert_and_deliveries_commit_with_article(store: Store) -> None:
    """A new article's alert gets one pending delivery per destination."""
    rec = store.commit_poll(
        FEED_A, OK, [article("1")], {"1": [pending(destinations=("a", "b"))]}, NOW
    )
    assert len(rec.alerts) == 1 and rec.deliveries == 2
    due = store.due_deliveries(NOW)
    assert sorted(d.destination for d in due) == ["a", "b"]
    assert all(d.state is DeliveryState.PENDING and d.alert.id == rec.alerts[0] for d in due)


def test_alert_is_created_once_per_watch_and_story(store: Store) -> None:
    """Re-recording the same article never creates a second alert."""
    store.commit_poll(FEED_A, OK, [article("1")], {"1": [pending()]}, NOW)
    store.commit_poll(FEED_A, OK, [article("1")], {"1": [pending()]}, NOW)
    assert len(store.deliveries()) == 1


def test_failed_transaction_leaves_nothing(store: Store) -> None:
    """An error inside commit_poll rolls back the article, its alert and the feed state."""
    broken = PendingAlert(pending().match, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.commit_poll(
            FEED_A, FeedUpdate(success=True, etag='"x"'), [article("1")], {"1": [broken]}, NOW
        )
    assert store.unseen(FEED_A, [article("1")]) == [article("1")]
    assert count(store, "alerts") == 0
    assert store.feed_state(FEED_A).etag is None


def test_mark_sent_removes_from_due(store: Store) -> None:
    """A sent delivery is never due again."""
    store.commit_poll(FEED_A, OK, [article("1")], {"1": [pending()]}, NOW)
    (delivery,) = store.due_deliveries(NOW)
    store.mark_sent(delivery.id, NOW)
    assert store.due_deliveries(NOW + timedelta(days=1)) == []
    assert store.deliveries(DeliveryState.SENT)[0].attempts == 1


def test_failed_delivery_retries_later_then_dead_then_revived(store: Store) -> None:
    """A failed delivery waits for its retry time; a dead one waits for `alerts retry`."""
    store.commit_poll(FEED_A, OK, [article("1")], {"1": [pending()]}, NOW)
    (delivery,) = store.due_deliveries(NOW)
    store.schedule_retry(delivery.id, "HTTP 503", NOW + timedelta(minutes=5))
    assert store.due_deliveries(NOW + timedelta(minutes=4)) == []
    assert len(store.due_deliveries(NOW + timedelta(minutes=5))) == 1
    store.mark_dead(delivery.id, "HTTP 404", NOW)
    (dead,) = store.deliveries(DeliveryState.DEAD)
    assert dead.last_error == "HTTP 404" and dead.attempts == 2
    assert store.retry_dead([dead.alert.id], NOW) == 1
    assert len(store.due_deliveries(NOW)) == 1


def test_feed_state_tracks_success_and_errors(store: Store) -> None:
    """Failures grow the error streak and keep the error; a success resets both."""
    fail = FeedUpdate(success=False, status=500, error="HTTP 500")
    store.commit_fetch(FEED_A, fail, NOW)
    store.commit_fetch(FEED_A, fail, NOW + timedelta(minutes=1))
    state = store.feed_state(FEED_A)
    assert (state.error_streak, state.last_error, state.failing_since) == (2, "HTTP 500", NOW)
    store.commit_poll(FEED_A, FeedUpdate(success=True, status=200, etag='"e1"'), [], {}, NOW)
    state = store.feed_state(FEED_A)
    assert (state.error_streak, state.last_error, state.etag) == (0, None, '"e1"')
    assert state.last_success_at == NOW


def test_also_lists_sightings_in_other_feeds(store: Store) -> None:
    """A copy seen in another feed appears in the alert's 'also'."""
    rec = store.commit_poll(
        FEED_A, OK, [article("1", "https://x.example/s", title="Story")], {"1": [pending()]}, NOW
    )
    store.commit_poll(
        FEED_B,
        FeedUpdate(success=True, status=200, title="Feed B"),
        [article("9", "https://x.example/s", feed=FEED_B)],
        {},
        NOW,
    )
    alert = store.alert(rec.alerts[0])
    assert [(s.feed.name, s.feed.url) for s in alert.also] == [("Feed B", FEED_B)]


def test_two_writers_at_once_both_succeed(database: Path | PostgresUrl) -> None:
    """Two connections writing at once both succeed (SQLite: BEGIN IMMEDIATE and its busy
    timeout; PostgreSQL: the story lock)."""
    open_store(database).close()
    errors: list[BaseException] = []

    def writer(feed: str) -> None:
        s = open_store(database)
        try:
            for i in range(100):
                s.commit_poll(feed, OK, [article(f"{feed}{i}", feed=feed)], {}, NOW)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=writer, args=(f,)) for f in (FEED_A, FEED_B)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with contextlib.closing(open_store(database)) as s:
        assert count(s, "articles") == 200


def test_reopening_keeps_data_and_migrations_are_idempotent(tmp_path: Path) -> None:
    """Opening an existing database applies no migration twice and keeps its rows."""
    path = tmp_path / "nw.db"
    s = SQLiteStore(path)
    s.commit_poll(FEED_A, OK, [article("1")], {}, NOW)
    applied = s.db.execute("SELECT COUNT(*) FROM _sqlite_migrations").fetchone()[0]
    s.close()
    s = SQLiteStore(path)
    assert s.unseen(FEED_A, [article("1")]) == []
    applied = s.db.execute("SELECT COUNT(*) FROM _sqlite_migrations").fetchone()[0]
    assert applied == len(migrations._migrations)
    s.close()


def test_postgres_instances_starting_at_once_migrate_once(pg_url: str) -> None:
    """Stores opened at once on an empty PostgreSQL database all open; each migration is
    applied once (the advisory lock)."""
    opened: list[Store] = []
    threads = [
        threading.Thread(target=lambda: opened.append(open_store(PostgresUrl(pg_url))))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(opened) == 4
    assert count(opened[0], "newswatch_migrations") == len(MIGRATIONS)
    for s in opened:
        s.close()


def test_alert_names_feed_by_configured_name_else_title(store: Store) -> None:
    """An alert's feed is named as configured, else by the feed's own title."""
    store.ensure_feeds([(FEED_A, "Ledger"), (FEED_B, None)])
    a = store.commit_poll(
        FEED_A, FeedUpdate(success=True, title="Own A"), [article("1")], {"1": [pending()]}, NOW
    )
    b = store.commit_poll(
        FEED_B,
        FeedUpdate(success=True, title="Own B"),
        [article("2", feed=FEED_B)],
        {"2": [pending()]},
        NOW,
    )
    assert store.alert(a.alerts[0]).feed.name == "Ledger"
    assert store.alert(b.alerts[0]).feed.name == "Own B"


def test_retry_dead_ends_the_destination_pause_and_forgets_the_unit(store: Store) -> None:
    """A revived delivery is planned afresh, and its destination is no longer paused."""
    store.commit_poll(FEED_A, OK, [article("1")], {"1": [pending()]}, NOW)
    (delivery,) = store.due_deliveries(NOW)
    store.assign_units({"digest-x": [delivery.id]})
    later = NOW + timedelta(hours=1)
    store.mark_dead(delivery.id, "HTTP 500", NOW)
    store.pause_destination("hook", "HTTP 500", later)
    assert store.destination_state("hook").paused_until == later
    assert store.retry_dead([], NOW) == 1
    assert store.destination_state("hook").paused_until is None
    (revived,) = store.due_for("hook", NOW)
    assert revived.unit is None and revived.attempts == 0


def test_also_keeps_each_copy_s_own_title_and_link(store: Store) -> None:
    """A copy in another feed under a tracking link is listed with its own title and link."""
    rec = store.commit_poll(
        FEED_A, OK, [article("1", "https://x.example/s", title="Story")], {"1": [pending()]}, NOW
    )
    copy = Article(
        feed_url=FEED_B,
        entry_key="9",
        link="https://x.example/s?utm_source=b",
        link_key="https://x.example/s",
        title="Story (wire)",
    )
    store.commit_poll(FEED_B, OK, [copy], {}, NOW)
    (also,) = store.alert(rec.alerts[0]).also
    assert (also.title, also.url) == ("Story (wire)", "https://x.example/s?utm_source=b")
