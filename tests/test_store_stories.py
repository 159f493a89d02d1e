"""The store's story decisions: near-duplicates join a story inside the write transaction,
within the window only; one alert per (watch, story); later copies listed; the index pruned."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newswatch import cluster
from newswatch.config import PostgresUrl
from newswatch.models import Article, Hit, Match
from newswatch.store import FeedUpdate, PendingAlert, Store, StoryRules, open_store
from support.engines import count

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
OK = FeedUpdate(success=True, status=200)
TEXT = (
    "Leaked documents show that Belarusian security officials drew up lists of independent "
    "election observers to be detained in the weeks before the presidential vote, according "
    "to papers obtained by a group of exiled journalists. The documents include the names, "
    "home addresses and workplaces of 214 observers registered by the opposition, with "
    "handwritten notes assigning each of them to a police district in Minsk."
)
OTHER = (
    "Belarusian leader Alexander Lukashenko has pardoned 18 people convicted of what the "
    "authorities call extremism, his press service said on Tuesday, days before the "
    "Independence Day holiday. Those released include six women and several people who had "
    "been sentenced to between two and five years in prison for taking part in protests."
)


def copy(n: int, text: str = TEXT, title: str = "Leaked documents") -> Article:
    feed = f"https://outlet{n}.example/rss"
    link = f"https://outlet{n}.example/{abs(hash(text)) % 1000}"
    return Article(
        feed_url=feed, entry_key=link, link=link, link_key=link, title=title, content=text
    )


def rules(
    *articles: Article, window: timedelta = timedelta(hours=72), prune: int = 1000
) -> StoryRules:
    return StoryRules(
        signatures={a.entry_key: cluster.signature(a) for a in articles},
        window=window,
        same=cluster.same,
        prune=prune,
    )


def pending(watch: str = "belarus") -> list[PendingAlert]:
    hit = Hit(term="Belarus", field="content", start=0, end=7, text="Belarus")
    return [PendingAlert(Match(watch, (hit,), "…"), ("hook",))]


def record(
    store: Store, article: Article, now: datetime = NOW, watch: str = "belarus", **kw: object
):
    return store.commit_poll(
        article.feed_url,
        OK,
        [article],
        {article.entry_key: pending(watch)},
        now,
        rules(article, **kw),
    )


def story_of(store: Store, article: Article) -> int:
    row = store.one("SELECT story_id FROM articles WHERE link_key = ?", [article.link_key])
    return int(row["story_id"])


@pytest.fixture
def store(new_store: Callable[[], Store]) -> Store:
    return new_store()


def test_copy_from_another_outlet_joins_the_story_and_does_not_alert(store: Store) -> None:
    """A near-duplicate under another link is a new article of the same story: no alert."""
    first = record(store, copy(1))
    second = record(store, copy(2, TEXT + " Share this article. Subscribe."))
    assert len(first.alerts) == 1
    assert len(second.new_articles) == 1 and second.alerts == ()
    assert story_of(store, copy(1)) == story_of(
        store, copy(2, TEXT + " Share this article. Subscribe.")
    )


def test_later_copy_is_listed_in_also(store: Store) -> None:
    """The alert's 'also' lists the later copy, with its feed."""
    first = record(store, copy(1))
    record(store, copy(2, TEXT, title="Minsk files leak"))
    also = store.alert(first.alerts[0]).also
    assert [(s.title, s.feed.url) for s in also] == [
        ("Minsk files leak", "https://outlet2.example/rss")
    ]


def test_different_story_gets_its_own_alert(store: Store) -> None:
    """A different story with the same names alerts on its own."""
    record(store, copy(1))
    other = record(store, copy(2, OTHER, title="Lukashenko pardons 18"))
    assert len(other.alerts) == 1
    assert story_of(store, copy(1)) != story_of(store, copy(2, OTHER))


def test_copy_after_the_window_is_a_new_story(store: Store) -> None:
    """A near-duplicate first seen after the window starts a new story and alerts again."""
    record(store, copy(1))
    late = record(store, copy(2), now=NOW + timedelta(hours=73))
    assert len(late.alerts) == 1


def test_window_holds_for_rows_not_yet_pruned(store: Store) -> None:
    """The lookup itself ignores index rows older than the window."""
    record(store, copy(1), prune=0)
    late = record(store, copy(2), now=NOW + timedelta(hours=73), prune=0)
    assert len(late.alerts) == 1


def test_two_copies_in_one_poll_join_one_story(store: Store) -> None:
    """Two copies recorded in the same transaction meet: one story, one alert."""
    a, b = copy(1), copy(2, "BREAKING. " + TEXT)
    rec = store.commit_poll(
        a.feed_url, OK, [a, b], {a.entry_key: pending(), b.entry_key: pending()}, NOW, rules(a, b)
    )
    assert len(rec.new_articles) == 2 and len(rec.alerts) == 1
    assert story_of(store, a) == story_of(store, b)


def test_copies_recorded_at_once_by_two_connections_join_one_story(
    database: Path | PostgresUrl,
) -> None:
    """Concurrent writers decide one at a time (SQLite: BEGIN IMMEDIATE; PostgreSQL: the
    story lock): they never both start a story."""
    open_store(database).close()
    copies = [copy(n, f"Outlet {n} reports. " + TEXT) for n in range(8)]
    barrier = threading.Barrier(len(copies))
    errors: list[BaseException] = []

    def writer(article: Article) -> None:
        s = open_store(database)
        try:
            barrier.wait()
            record(s, article)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=writer, args=(a,)) for a in copies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with contextlib.closing(open_store(database)) as s:
        assert s.one("SELECT COUNT(DISTINCT story_id) AS n FROM articles")["n"] == 1
        assert count(s, "alerts") == 1


def test_later_alert_of_another_watch_threads_under_the_first(store: Store) -> None:
    """Another watch alerting on a later copy gets its own alert, threaded under the first
    alert of the story and carrying the earlier copy in 'also'."""
    first = record(store, copy(1))
    later = record(store, copy(2, TEXT + " The navy declined to comment."), watch="navy")
    alert = store.alert(later.alerts[0])
    assert alert.thread_id == first.alerts[0]
    assert [s.feed.url for s in alert.also] == ["https://outlet1.example/rss"]
    assert store.alert(first.alerts[0]).thread_id is None


def test_without_rules_every_article_is_its_own_story(store: Store) -> None:
    """stories: off — the store makes a story per article, as before."""
    for n in (1, 2):
        a = copy(n)
        rec = store.commit_poll(a.feed_url, OK, [a], {a.entry_key: pending()}, NOW)
        assert len(rec.alerts) == 1


def test_short_text_never_joins(store: Store) -> None:
    """A title-only item is too little text to judge: it is its own story."""
    a, b = copy(1, "Lukashenko speaks."), copy(2, "Lukashenko speaks.")
    assert cluster.signature(a).keys == ()
    record(store, a)
    assert len(record(store, b).alerts) == 1


def test_expired_index_rows_are_pruned(store: Store) -> None:
    """Rows older than the window leave the index (the lookup cost stays flat)."""
    record(store, copy(1))
    assert count(store, "story_keys") > 0
    record(store, copy(2, OTHER), now=NOW + timedelta(hours=80))
    left = store.query("SELECT article_id FROM story_index")
    keys = store.query("SELECT DISTINCT article_id FROM story_keys")
    assert len(left) == 1 and keys == left


def test_candidates_are_judged_on_their_stored_fingerprint(store: Store) -> None:
    """The lookup compares the fingerprint kept in the index, not the candidate's text
    (emptied here, as retention would), so the store thread never re-tokenizes."""
    record(store, copy(1))
    row = store.one("SELECT fingerprint FROM story_index")
    assert row["fingerprint"] == cluster.signature(copy(1)).fingerprint
    store.execute("UPDATE articles SET content = '', summary = '', title = ''")
    record(store, copy(2, "BREAKING. " + TEXT))
    assert story_of(store, copy(1)) == story_of(store, copy(2, "BREAKING. " + TEXT))


def test_candidate_indexed_before_fingerprints_is_fingerprinted_once(store: Store) -> None:
    """A row indexed before m007 (no fingerprint) is fingerprinted from its stored text
    when first met as a candidate, and the fingerprint is kept."""
    record(store, copy(1))
    store.execute("UPDATE story_index SET fingerprint = NULL")
    made: list[Article] = []

    def fingerprint(article: Article) -> bytes:
        made.append(article)
        return cluster.fingerprint(article)

    for n in (2, 3):
        a = copy(n, f"Outlet {n} reports. " + TEXT)
        store.commit_poll(a.feed_url, OK, [a], {}, NOW, replace(rules(a), fingerprint=fingerprint))
    assert [a.content for a in made] == [TEXT]
    assert len({story_of(store, copy(n, f"Outlet {n} reports. " + TEXT)) for n in (2, 3)}) == 1
    assert story_of(store, copy(1)) == story_of(store, copy(2, "Outlet 2 reports. " + TEXT))
    nulls = "SELECT COUNT(*) AS n FROM story_index WHERE fingerprint IS NULL"
    assert store.one(nulls)["n"] == 0


def test_candidate_without_fingerprint_is_passed_over_without_a_maker(store: Store) -> None:
    """Without ``StoryRules.fingerprint`` a row indexed before m007 is no candidate."""
    record(store, copy(1))
    store.execute("UPDATE story_index SET fingerprint = NULL")
    assert len(record(store, copy(2)).alerts) == 1
    assert story_of(store, copy(1)) != story_of(store, copy(2))


def test_lookup_compares_few_candidates_even_when_every_text_is_alike(store: Store) -> None:
    """A feed of many identical texts costs a bounded number of comparisons per article:
    candidates are ranked by shared keys, capped, and once a story has a near-certain match
    its other candidates are passed over."""
    calls: list[int] = []

    def counting(new: bytes, old: bytes) -> float:
        calls[-1] += 1
        return cluster.same(new, old)

    copies = [
        Article(
            feed_url="https://spam.example/rss",
            entry_key=f"e{n}",
            link=None,
            link_key=None,
            title="Leaked documents",
            content=TEXT,
        )
        for n in range(40)
    ]
    for article in copies:
        calls.append(0)
        store.commit_poll(
            article.feed_url,
            OK,
            [article],
            {},
            NOW,
            StoryRules(
                signatures={article.entry_key: cluster.signature(article)},
                window=timedelta(hours=72),
                same=counting,
                max_candidates=5,
            ),
        )
    assert calls[0] == 0 and max(calls) == 1  # identical: the first candidate is certain
    assert len({story_of_key(store, a.entry_key) for a in copies}) == 1


def test_lookup_never_compares_more_than_max_candidates(store: Store) -> None:
    """When no candidate is certain, at most max_candidates are compared."""
    calls: list[int] = []

    def undecided(new: bytes, old: bytes) -> float:
        calls[-1] += 1
        return 0.0

    for n in range(12):
        article = Article(
            feed_url="https://spam.example/rss",
            entry_key=f"e{n}",
            link=None,
            link_key=None,
            title="Leaked documents",
            content=TEXT,
        )
        calls.append(0)
        store.commit_poll(
            article.feed_url,
            OK,
            [article],
            {},
            NOW,
            StoryRules(
                signatures={article.entry_key: cluster.signature(article)},
                window=timedelta(hours=72),
                same=undecided,
                max_candidates=4,
            ),
        )
    assert calls == [0, 1, 2, 3] + [4] * 8


def story_of_key(store: Store, entry_key: str) -> int:
    row = store.one("SELECT story_id FROM articles WHERE entry_key = ?", [entry_key])
    return int(row["story_id"])
