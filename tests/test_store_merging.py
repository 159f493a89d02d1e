"""Stories that merge (issue 13): an article that is a copy of articles in two stories
joins the older, which absorbs the younger — its copies, and its alerts reconciled so that
each (watch, story, destination) is alerted at most once — whatever order copies arrive in.

The texts: the pardon story of the labelled set, a teaser of it and a spun copy of it,
each a copy of the original but not of each other (checked below), so the teaser and the
spun copy begin a story each when they arrive before the original.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from newswatch import cluster
from newswatch.models import Article, Hit, Match
from newswatch.store import (
    FeedUpdate,
    PendingAlert,
    PollRecord,
    SQLiteStore,
    Store,
    StoryRules,
    migrations,
)
from support.engines import count
from support.stories import FOLDER, load_file, split_pair

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
OK = FeedUpdate(success=True, status=200)
PARDON = next(
    i.article
    for i in load_file(FOLDER / "hard_negatives.yaml")
    if i.story.endswith(":pardon") and i.kind == "original"
)
TEASER, SPUN = split_pair(PARDON)


def rules(articles: Sequence[Article]) -> StoryRules:
    return StoryRules(
        signatures={a.entry_key: cluster.signature(a) for a in articles},
        window=timedelta(hours=72),
        same=cluster.same,
        why=cluster.why,
    )


def pending(watch: str = "belarus", destinations: tuple[str, ...] = ("hook",)) -> PendingAlert:
    hit = Hit(term="Lukashenko", field="content", start=0, end=10, text="Lukashenko")
    return PendingAlert(Match(watch, (hit,), "…"), destinations)


def record(
    store: Store,
    *articles: Article,
    at: datetime = NOW,
    alert: PendingAlert | None = None,
) -> PollRecord:
    """One poll that records ``articles`` (in order), each alerting ``alert`` (default:
    watch belarus for hook)."""
    wanted = alert or pending()
    return store.commit_poll(
        articles[0].feed_url,
        OK,
        list(articles),
        {a.entry_key: [wanted] for a in articles},
        at,
        rules(articles),
    )


def story(store: Store, article: Article) -> int:
    row = store.one("SELECT story_id FROM articles WHERE entry_key = ?", [article.entry_key])
    return int(row["story_id"])


def article_id(store: Store, article: Article) -> int:
    row = store.one("SELECT id FROM articles WHERE entry_key = ?", [article.entry_key])
    return int(row["id"])


def deliveries(store: Store, alert_id: str) -> dict[str, str]:
    rows = store.query("SELECT destination, state FROM deliveries WHERE alert_id = ?", [alert_id])
    return {r["destination"]: r["state"] for r in rows}


@pytest.fixture
def store(new_store: Callable[[], Store]) -> Store:
    return new_store()


def test_the_texts_split_a_story_when_the_original_comes_last() -> None:
    """The premise: teaser and spun copy are each a copy of the original, not of each other."""
    assert cluster.same_story(TEASER, PARDON) > 0
    assert cluster.same_story(SPUN, PARDON) > 0
    assert cluster.same_story(TEASER, SPUN) == 0


def test_a_copy_of_two_stories_merges_them_into_the_older(store: Store) -> None:
    """Teaser and spun copy begin a story each; the original joins the teaser's (the
    older), which absorbs the spun copy's: one story, the absorbed one marked merged."""
    record(store, TEASER)
    record(store, SPUN, at=NOW + timedelta(minutes=1))
    older, younger = story(store, TEASER), story(store, SPUN)
    assert older < younger
    rec = record(store, PARDON, at=NOW + timedelta(minutes=2))
    assert rec.merged == ((younger, older),)
    assert {story(store, a) for a in (TEASER, SPUN, PARDON)} == {older}
    row = store.one("SELECT merged_into FROM stories WHERE id = ?", [younger])
    assert row["merged_into"] == older


def test_the_first_copy_of_the_absorbed_story_says_merged_by_which_copy(store: Store) -> None:
    """``alerts --story``: the spun copy, which began the absorbed story, joined by
    "merged" with the original that merged them; the story's old number finds it."""
    record(store, TEASER)
    record(store, SPUN)
    absorbed = story(store, SPUN)
    record(store, PARDON)
    copies = {c.id: c for c in store.story_copies(str(absorbed))}
    assert set(copies) == {article_id(store, a) for a in (TEASER, SPUN, PARDON)}
    spun = copies[article_id(store, SPUN)]
    assert spun.joined_by == "merged" and spun.joined_to == article_id(store, PARDON)
    assert spun.joined_score is not None and spun.joined_score > 0
    original = copies[article_id(store, PARDON)]
    assert original.joined_by in {"shingles", "lede", "anchors"}
    assert copies[article_id(store, TEASER)].joined_by == ""


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_any_arrival_order_gives_one_story_and_one_alert(
    store: Store, order: tuple[int, ...]
) -> None:
    """Every order of teaser, spun copy and original, one per poll: one story, one alert
    left with its deliveries."""
    trio = (TEASER, SPUN, PARDON)
    for n, i in enumerate(order):
        record(store, trio[i], at=NOW + timedelta(minutes=n))
    assert len({story(store, a) for a in trio}) == 1
    assert count(store, "alerts") == 1 and count(store, "deliveries") == 1


def test_in_one_poll_the_merge_cancels_the_alert_it_raised(store: Store) -> None:
    """The three in one poll, the original last: the poll reports one alert, and it is
    the one left."""
    rec = record(store, TEASER, SPUN, PARDON)
    assert len(rec.alerts) == 1 and rec.cancelled == ()
    assert [r["id"] for r in store.query("SELECT id FROM alerts")] == list(rec.alerts)
    assert len(rec.merged) == 1


def test_unsent_alert_of_the_younger_story_is_cancelled(store: Store) -> None:
    """Both stories alerted, nothing sent yet: the younger story's alert and its delivery
    are cancelled (reported in ``cancelled``); the older's lists the others as "also"."""
    first = record(store, TEASER)
    second = record(store, SPUN)
    rec = record(store, PARDON)
    assert rec.cancelled == second.alerts and rec.alerts == ()
    assert [r["id"] for r in store.query("SELECT id FROM alerts")] == list(first.alerts)
    assert count(store, "deliveries") == 1
    also = store.alert(first.alerts[0]).also
    assert {s.url for s in also} == {SPUN.link, PARDON.link}


def test_the_alert_left_carries_the_earliest_published_copy(store: Store) -> None:
    """The cancelled alert carried a copy published earlier than the older story's: the
    alert left (nothing of it sent) carries that one, with its match."""
    teaser = replace(TEASER, published=NOW - timedelta(hours=1))
    spun = replace(SPUN, published=NOW - timedelta(hours=3))
    first = record(store, teaser)
    record(store, spun)
    record(store, replace(PARDON, published=None))
    alert = store.alert(first.alerts[0])
    assert alert.article.link == SPUN.link


def test_both_alerts_kept_when_both_were_sent(store: Store) -> None:
    """Both stories' alerts were sent before the merge: both stay, the younger's marked
    merged from its story; a later copy still raises no alert."""
    first, second = record(store, TEASER), record(store, SPUN)
    for alert in (*first.alerts, *second.alerts):
        ids = [int(r["id"]) for r in store.query(
            "SELECT id FROM deliveries WHERE alert_id = ?", [alert])]  # fmt: skip
        store.mark_sent(ids, NOW, "hook")
    absorbed = story(store, SPUN)
    rec = record(store, PARDON)
    assert rec.cancelled == () and rec.alerts == ()
    rows = {r["id"]: r for r in store.query("SELECT id, story_id, merged_from FROM alerts")}
    assert set(rows) == {*first.alerts, *second.alerts}
    assert {r["story_id"] for r in rows.values()} == {story(store, TEASER)}
    assert rows[first.alerts[0]]["merged_from"] is None
    assert rows[second.alerts[0]]["merged_from"] == absorbed
    later = replace(
        PARDON, entry_key="wire", link="https://w.example/1", link_key="https://w.example/1"
    )
    assert record(store, later).alerts == ()


def test_sent_younger_alert_cancels_the_unsent_older(store: Store) -> None:
    """Only the younger story's alert went out: the older's unsent one is cancelled, and
    the one that went out is the story's alert for the watch."""
    first, second = record(store, TEASER), record(store, SPUN)
    sent = [int(r["id"]) for r in store.query(
        "SELECT id FROM deliveries WHERE alert_id = ?", [second.alerts[0]])]  # fmt: skip
    store.mark_sent(sent, NOW, "hook")
    rec = record(store, PARDON)
    assert rec.cancelled == first.alerts
    row = store.one("SELECT id, story_id, merged_from FROM alerts")
    assert row["id"] == second.alerts[0] and row["merged_from"] is None
    assert row["story_id"] == story(store, TEASER)


def test_destinations_are_reconciled_one_by_one(store: Store) -> None:
    """Older alert unsent to hook and mail; younger sent to hook, unsent to mail: hook
    keeps the younger's (sent), mail the older's; each destination gets the story once."""
    both = pending(destinations=("hook", "mail"))
    first, second = record(store, TEASER, alert=both), record(store, SPUN, alert=both)
    hook = store.one(
        "SELECT id FROM deliveries WHERE alert_id = ? AND destination = 'hook'",
        [second.alerts[0]],
    )
    store.mark_sent([int(hook["id"])], NOW, "hook")
    rec = record(store, PARDON, alert=both)
    assert rec.cancelled == ()
    assert deliveries(store, first.alerts[0]) == {"mail": "pending"}
    assert deliveries(store, second.alerts[0]) == {"hook": "sent"}


def test_a_delivery_being_sent_is_never_cancelled(store: Store) -> None:
    """The younger story's delivery is in a message already (a unit): it is kept, and the
    older story's untouched one to the same destination is the one cancelled."""
    first, second = record(store, TEASER), record(store, SPUN)
    row = store.one("SELECT id FROM deliveries WHERE alert_id = ?", [second.alerts[0]])
    store.assign_units({"u1": [int(row["id"])]})
    rec = record(store, PARDON)
    assert rec.cancelled == first.alerts
    assert deliveries(store, second.alerts[0]) == {"hook": "pending"}


def test_another_watch_on_the_younger_story_moves_over(store: Store) -> None:
    """A watch that alerted only on the younger story keeps its alert, now on the older."""
    record(store, TEASER)
    second = record(store, SPUN, alert=pending("navy"))
    record(store, PARDON, alert=pending("navy"))
    row = store.one("SELECT story_id, merged_from FROM alerts WHERE id = ?", [second.alerts[0]])
    assert row["story_id"] == story(store, TEASER) and row["merged_from"] is None
    assert count(store, "alerts") == 2


def test_absorbed_story_number_outlives_pruning_until_retention(store: Store) -> None:
    """Pruning keeps the absorbed story's row (its number finds the merged story) until
    the merge is older than the retention cutoff."""
    record(store, TEASER)
    record(store, SPUN)
    absorbed = story(store, SPUN)
    record(store, PARDON)
    store.prune(NOW - timedelta(days=1), NOW)
    assert store.one("SELECT id FROM stories WHERE id = ?", [absorbed]) is not None
    assert len(store.story_copies(str(absorbed))) == 3
    store.prune(NOW + timedelta(seconds=1), NOW + timedelta(days=40))
    assert store.one("SELECT id FROM stories WHERE id = ?", [absorbed]) is None


def test_m012_keeps_alerts_and_one_alert_per_watch_and_story(tmp_path: Path) -> None:
    """A database from before m012: its alerts keep their rowids (which order a story's
    alerts), and a second alert of a watch on a story is still refused."""
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m012_story_merges")
    iso = NOW.isoformat()
    db.execute("INSERT INTO feeds (id, url, current_url) VALUES (1, 'f', 'f')")
    db.execute("INSERT INTO stories (id, created_at, last_seen_at) VALUES (7, ?, ?)", [iso, iso])
    db.execute(
        "INSERT INTO articles (id, feed_id, story_id, entry_key, seen_at)"
        " VALUES (3, 1, 7, 'e1', ?)",
        [iso],
    )
    db.execute(
        "INSERT INTO alerts (rowid, id, watch, story_id, article_id, matched, snippet,"
        " created_at) VALUES (40, 'a1', 'belarus', 7, 3, '[]', '', ?)",
        [iso],
    )
    db.conn.commit()
    db.close()
    with SQLiteStore(path) as store:
        assert store.db.execute("SELECT rowid, id FROM alerts").fetchall() == [(40, "a1")]
        with pytest.raises(sqlite3.IntegrityError):
            store.db.execute(
                "INSERT INTO alerts (id, watch, story_id, article_id, matched, snippet,"
                " created_at) VALUES ('a2', 'belarus', 7, 3, '[]', '', ?)",
                [iso],
            )
