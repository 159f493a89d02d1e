"""SQLite state: feed state, articles and their identities, stories, and the alert outbox.

One ``Store`` owns one connection and is used from one thread (``AsyncStore`` gives the
asyncio daemon a dedicated thread for it). Every write is a ``BEGIN IMMEDIATE`` transaction:
deferred transactions fail under concurrent writers (NOTES.md). The store decides what is
new; an article and the alerts it causes are committed together (the outbox pattern).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import struct
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import sqlite_utils

from newswatch.errors import StoreError
from newswatch.models import (
    Alert,
    Article,
    Delivery,
    DeliveryState,
    DestinationState,
    FeedRef,
    FeedState,
    Hit,
    Match,
    Sighting,
    StorySignature,
)

P = ParamSpec("P")
T = TypeVar("T")

migrations = sqlite_utils.Migrations("newswatch")

# How an alert names a feed: as configured, else by its own title, else by its URL.
FEED_NAME = "COALESCE(NULLIF(f.name, ''), NULLIF(f.title, ''), f.url) AS feed_title"


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    """Feeds, articles with their per-feed entries, stories, alerts and deliveries."""
    db.executescript(
        """
        CREATE TABLE feeds (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            current_url TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',  -- as configured ('' = use the feed's own title)
            title TEXT NOT NULL DEFAULT '',
            etag TEXT, last_modified TEXT,
            last_fetch_at TEXT, last_success_at TEXT, last_new_item_at TEXT,
            last_status INTEGER, error_streak INTEGER NOT NULL DEFAULT 0,
            last_error TEXT, failing_since TEXT,
            next_poll_at TEXT, backoff_until TEXT,
            items_seen INTEGER NOT NULL DEFAULT 0,
            gone INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE stories (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL
        );
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            feed_id INTEGER NOT NULL REFERENCES feeds(id),
            story_id INTEGER NOT NULL REFERENCES stories(id),
            entry_key TEXT NOT NULL,
            link TEXT, link_key TEXT,
            title TEXT NOT NULL DEFAULT '', summary TEXT NOT NULL DEFAULT '',
            content TEXT NOT NULL DEFAULT '',
            published TEXT, author TEXT NOT NULL DEFAULT '',
            seen_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX articles_link_key ON articles(link_key) WHERE link_key IS NOT NULL;
        CREATE INDEX articles_story ON articles(story_id);
        CREATE INDEX articles_seen_at ON articles(seen_at);
        -- every (feed, entry) ever met, pointing at the article it is a copy of
        CREATE TABLE entries (
            feed_id INTEGER NOT NULL REFERENCES feeds(id),
            entry_key TEXT NOT NULL,
            article_id INTEGER NOT NULL REFERENCES articles(id),
            seen_at TEXT NOT NULL,
            PRIMARY KEY (feed_id, entry_key)
        );
        CREATE INDEX entries_article ON entries(article_id);
        CREATE TABLE alerts (
            id TEXT PRIMARY KEY,
            watch TEXT NOT NULL,
            story_id INTEGER NOT NULL REFERENCES stories(id),
            article_id INTEGER NOT NULL REFERENCES articles(id),
            matched TEXT NOT NULL,
            snippet TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (watch, story_id)
        );
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            alert_id TEXT NOT NULL REFERENCES alerts(id),
            destination TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT,
            sent_at TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (alert_id, destination)
        );
        CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);
        """
    )


@migrations()
def m002_story_index(db: sqlite_utils.Database) -> None:
    """The LSH index of recent articles' story signatures, and alerts by story."""
    db.executescript(
        """
        -- one row per indexed article; its keys are kept to remove them when it expires
        CREATE TABLE story_index (
            article_id INTEGER PRIMARY KEY REFERENCES articles(id),
            seen_at TEXT NOT NULL,
            keys BLOB NOT NULL
        );
        CREATE INDEX story_index_seen_at ON story_index(seen_at);
        CREATE TABLE story_keys (
            key INTEGER NOT NULL,
            article_id INTEGER NOT NULL,
            PRIMARY KEY (key, article_id)
        ) WITHOUT ROWID;
        CREATE INDEX alerts_story ON alerts(story_id, created_at);
        """
    )


@migrations()
def m003_delivery_units(db: sqlite_utils.Database) -> None:
    """The message each delivery was offered in (for stable keys across retries and
    crashes), and per-destination state (a failing destination pauses as a whole)."""
    db.executescript(
        """
        ALTER TABLE deliveries ADD COLUMN unit TEXT;
        CREATE INDEX deliveries_unit ON deliveries(unit) WHERE unit IS NOT NULL;
        CREATE INDEX deliveries_lane ON deliveries(destination, state, next_attempt_at);
        CREATE TABLE destination_state (
            name TEXT PRIMARY KEY,
            failures INTEGER NOT NULL DEFAULT 0,
            paused_until TEXT,
            last_error TEXT,
            last_success_at TEXT
        );
        """
    )


@migrations()
def m004_warnings_last_seen_tombstones(db: sqlite_utils.Database) -> None:
    """A feed's last warning; when each entry was last seen in its feed; pruned articles."""
    db.executescript(
        """
        ALTER TABLE feeds ADD COLUMN last_warning TEXT;
        ALTER TABLE feeds ADD COLUMN last_document_at TEXT;  -- last 200 that was parsed
        ALTER TABLE entries ADD COLUMN last_seen_at TEXT;  -- NULL: never seen after seen_at
        ALTER TABLE articles ADD COLUMN pruned_at TEXT;    -- set: a tombstone (identity only)
        """
    )


@migrations()
def m005_feed_health_notices(db: sqlite_utils.Database) -> None:
    """The health last announced per feed; alerts that are feed-health notices."""
    db.executescript(
        """
        ALTER TABLE feeds ADD COLUMN health TEXT;
        ALTER TABLE alerts ADD COLUMN kind TEXT NOT NULL DEFAULT 'article';
        """
    )


@migrations()
def m006_copy_title_and_link(db: sqlite_utils.Database) -> None:
    """A copy met in another feed keeps its own title and link (for 'also')."""
    db.executescript(
        """
        ALTER TABLE entries ADD COLUMN title TEXT;
        ALTER TABLE entries ADD COLUMN link TEXT;
        """
    )


NOTICE_KEY_PREFIX = "newswatch:notice:"  # entry keys of the articles that carry notices


def iso(value: datetime | None) -> str | None:
    """A sortable text form of an aware datetime, in UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_iso(value: str | None) -> datetime | None:
    """The inverse of :func:`iso`."""
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """What one poll of a feed changes in its state. ``None`` fields are left as they are."""

    success: bool
    status: int | None = None
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    current_url: str | None = None
    title: str | None = None
    next_poll_at: datetime | None = None
    backoff_until: datetime | None = None
    gone: bool = False
    parsed: bool = False  # a document was parsed: ``warning`` replaces the last warning
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class PruneReport:
    """What :meth:`Store.prune` removed."""

    alerts: int = 0  # alerts deleted with their finished deliveries
    tombstoned: int = 0  # articles reduced to their identity keys
    forgotten: int = 0  # tombstones deleted: not seen in any feed for the retention period


@dataclass(frozen=True, slots=True)
class HealthNotice:
    """A feed-health notice to queue: the watch name it carries, a title and a detail."""

    watch: str
    title: str
    detail: str


@dataclass(frozen=True, slots=True)
class PendingAlert:
    """An alert the pipeline wants for a new article: a match and the destinations it owes."""

    match: Match
    destinations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoryRules:
    """How :meth:`Store.record_poll` recognises the same story (SPEC §4).

    ``signatures`` holds the LSH keys of this poll's articles by ``entry_key``; ``same``
    says whether a new article and a stored candidate are one story (a score above zero,
    higher is closer). Only articles seen within ``window`` are candidates.
    """

    signatures: Mapping[str, StorySignature]
    window: timedelta
    same: Callable[[Article, Article], float]
    max_candidates: int = 20  # compared at most, those sharing the most keys first
    certain: float = 0.9  # a score this high ends the search
    per_key: int = 50  # most recent holders of one LSH key considered
    prune: int = 1000  # expired index rows removed per poll, at most


@dataclass(frozen=True, slots=True)
class PollRecord:
    """What :meth:`Store.record_poll` did."""

    new_articles: tuple[Article, ...] = ()
    alerts: tuple[str, ...] = ()  # ids of the alerts created
    deliveries: int = 0


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article read back from the store, with the feed it was first seen in."""

    id: int
    article: Article
    feed: FeedRef
    seen_at: datetime
    story_id: int = 0


class Store:
    """The database. Not thread-safe: one thread uses one Store."""

    def __init__(self, path: Path, *, busy_timeout: float = 30.0) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=busy_timeout)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from exc
        self.db = sqlite_utils.Database(conn)
        with self.db.ensure_autocommit_on():
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
        with self.write():
            migrations.apply(self.db)

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """A ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on error."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"database {self.path} is busy or unwritable: {exc}") from exc
        try:
            yield self.db
        except BaseException:
            self.db.rollback()
            raise
        else:
            self.db.commit()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        return next(self.db.query(sql, params), None)

    # -- feeds -------------------------------------------------------------------------

    def ensure_feeds(self, feeds: Iterable[tuple[str, str | None]]) -> None:
        """Make sure each configured feed (url, name) has a state row with its current name."""
        with self.write():
            for url, name in feeds:
                self.db.execute(
                    "INSERT INTO feeds (url, current_url, name) VALUES (?, ?, ?) "
                    "ON CONFLICT (url) DO UPDATE SET name = excluded.name",
                    [url, url, name or ""],
                )

    def feed_state(self, url: str) -> FeedState:
        """The state of the feed configured as ``url`` (a fresh one if never seen)."""
        row = self._one("SELECT * FROM feeds WHERE url = ?", [url])
        return _feed_state(row) if row else FeedState(url=url, current_url=url)

    def feed_states(self) -> list[FeedState]:
        """Every feed the store knows, in URL order."""
        return [_feed_state(r) for r in self.db.query("SELECT * FROM feeds ORDER BY url")]

    def _feed_id(self, url: str) -> int:
        self.db.execute(
            "INSERT INTO feeds (url, current_url) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [url, url],
        )
        row = self._one("SELECT id FROM feeds WHERE url = ?", [url])
        assert row is not None
        return int(row["id"])

    def _apply_update(self, feed_id: int, update: FeedUpdate, now: datetime) -> None:
        sets: dict[str, Any] = {"last_fetch_at": iso(now), "last_status": update.status}
        if update.success:
            sets |= {
                "last_success_at": iso(now),
                "error_streak": 0,
                "last_error": None,
                "failing_since": None,
            }
            if update.parsed:
                sets["last_warning"] = update.warning
        else:
            sets["last_error"] = update.error
        for name in ("etag", "last_modified", "current_url", "title"):
            if getattr(update, name) is not None:
                sets[name] = getattr(update, name)
        sets["next_poll_at"] = iso(update.next_poll_at)
        sets["backoff_until"] = iso(update.backoff_until)
        if update.gone:
            sets["gone"] = 1
        assignments = ", ".join(f"{k} = :{k}" for k in sets)
        extra = (
            ""
            if update.success
            else (
                ", error_streak = error_streak + 1, failing_since = COALESCE(failing_since, :now)"
            )
        )
        self.db.execute(
            f"UPDATE feeds SET {assignments}{extra} WHERE id = :id",
            {**sets, "now": iso(now), "id": feed_id},
        )

    def record_failure(self, url: str, update: FeedUpdate, now: datetime) -> None:
        """Record a poll that produced no articles (error, 304, 410, Retry-After)."""
        with self.write():
            self._apply_update(self._feed_id(url), update, now)

    # -- articles ----------------------------------------------------------------------

    def unseen(self, feed_url: str, articles: Sequence[Article]) -> list[Article]:
        """The articles neither this feed's entry ids nor any feed's links have met before.

        A read-only prefilter so the pipeline matches only what may be new;
        :meth:`record_poll` decides for certain inside its transaction.
        """
        row = self._one("SELECT id FROM feeds WHERE url = ?", [feed_url])
        feed_id = int(row["id"]) if row else -1
        return [a for a in articles if not self._known(feed_id, a)]

    def _known(self, feed_id: int, article: Article) -> int | None:
        """The id of the stored article this one is a copy of, if any."""
        row = self._one(
            "SELECT article_id FROM entries WHERE feed_id = ? AND entry_key = ?",
            [feed_id, article.entry_key],
        )
        if row is None and article.link_key:
            row = self._one(
                "SELECT id AS article_id FROM articles WHERE link_key = ?", [article.link_key]
            )
        return int(row["article_id"]) if row else None

    def record_poll(
        self,
        feed_url: str,
        update: FeedUpdate,
        articles: Sequence[Article],
        alerts: Mapping[str, Sequence[PendingAlert]],
        now: datetime,
        stories: StoryRules | None = None,
    ) -> PollRecord:
        """Commit one successful poll at once: feed state, new articles, their alerts.

        ``alerts`` maps an article's ``entry_key`` to the alerts it should cause if it
        really is new. Copies of known articles are recorded as sightings, never alerted.
        With ``stories``, a new article that is a near-duplicate of a recent one joins its
        story, decided here, inside the write transaction, so two copies recorded at once
        still meet; alerts are unique per (watch, story), so the copy alerts no watch that
        the story already alerted.
        """
        new: list[Article] = []
        alert_ids: list[str] = []
        deliveries = 0
        with self.write():
            feed_id = self._feed_id(feed_url)
            if stories is not None:
                self._prune_story_index(now - stories.window, stories.prune)
            for article in articles:
                article_id = self._insert_article(feed_id, article, now, stories)
                if article_id is None:
                    continue
                new.append(article)
                for pending in alerts.get(article.entry_key, ()):
                    created = self._insert_alert(article_id, pending, now)
                    if created:
                        alert_ids.append(created[0])
                        deliveries += created[1]
            self._apply_update(feed_id, update, now)
            if new:
                self.db.execute(
                    "UPDATE feeds SET items_seen = items_seen + ?, last_new_item_at = ? "
                    "WHERE id = ?",
                    [len(new), iso(now), feed_id],
                )
        return PollRecord(tuple(new), tuple(alert_ids), deliveries)

    def _insert_article(
        self, feed_id: int, article: Article, now: datetime, stories: StoryRules | None = None
    ) -> int | None:
        """Store ``article`` if new and return its id; record a sighting and return None if not."""
        known = self._known(feed_id, article)
        if known is not None:
            self.db.execute(
                "INSERT INTO entries (feed_id, entry_key, article_id, seen_at, title, link) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [feed_id, article.entry_key, known, iso(now), article.title, article.link],
            )
            return None
        signature = stories.signatures.get(article.entry_key) if stories else None
        story_id = None
        if stories is not None and signature is not None and signature.keys:
            story_id = self._story_of(article, signature.keys, stories, now)
        if story_id is None:
            story_id = self.db.execute(
                "INSERT INTO stories (created_at, last_seen_at) VALUES (?, ?)",
                [iso(now), iso(now)],
            ).lastrowid
        article_id = self.db.execute(
            "INSERT INTO articles (feed_id, story_id, entry_key, link, link_key, title, summary,"
            " content, published, author, seen_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                feed_id,
                story_id,
                article.entry_key,
                article.link,
                article.link_key,
                article.title,
                article.summary,
                article.content,
                iso(article.published),
                article.author,
                iso(now),
            ],
        ).lastrowid
        self.db.execute(
            "INSERT INTO entries (feed_id, entry_key, article_id, seen_at) VALUES (?, ?, ?, ?)",
            [feed_id, article.entry_key, article_id, iso(now)],
        )
        assert article_id is not None
        if signature is not None and signature.keys:
            self._index_story(int(article_id), signature.keys, now)
        return int(article_id)

    # -- stories -----------------------------------------------------------------------

    def _story_of(
        self, article: Article, keys: Sequence[int], rules: StoryRules, now: datetime
    ) -> int | None:
        """The story of the closest recent near-duplicate of ``article`` (candidates: the
        articles seen within the window that share the most LSH keys with it), if any;
        marks that story as seen now.

        Candidates are ranked by shared keys and at most ``max_candidates`` are compared,
        stopping at a near-certain match: a feed of a thousand identical texts must not
        cost a thousand comparisons per article (the store thread serves everything)."""
        # Each key contributes only its most recent holders: a key shared by thousands
        # of articles (a feed of identical texts) must not make the lookup a scan.
        per_key = " UNION ALL ".join(
            "SELECT * FROM (SELECT article_id FROM story_keys WHERE key = ?"
            " ORDER BY article_id DESC LIMIT ?)"
            for _ in keys
        )
        rows = self.db.query(
            "SELECT a.*, f.url AS feed_url FROM ("
            f"  SELECT h.article_id, COUNT(*) AS shared FROM ({per_key}) h"
            "   JOIN story_index s ON s.article_id = h.article_id WHERE s.seen_at >= ?"
            "   GROUP BY h.article_id ORDER BY shared DESC, h.article_id DESC LIMIT ?"
            ") c JOIN articles a ON a.id = c.article_id JOIN feeds f ON f.id = a.feed_id"
            " ORDER BY c.shared DESC, a.id DESC",
            [
                *(v for key in keys for v in (key, rules.per_key)),
                iso(now - rules.window),
                rules.max_candidates,
            ],
        )
        best, story = 0.0, None
        for row in rows:
            score = rules.same(article, _article(row))
            if score > best:
                best, story = score, int(row["story_id"])
            if best >= rules.certain:
                break
        if story is not None:
            self.db.execute("UPDATE stories SET last_seen_at = ? WHERE id = ?", [iso(now), story])
        return story

    def _index_story(self, article_id: int, keys: Sequence[int], now: datetime) -> None:
        self.db.execute(
            "INSERT INTO story_index (article_id, seen_at, keys) VALUES (?, ?, ?)",
            [article_id, iso(now), struct.pack(f"<{len(keys)}q", *keys)],
        )
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO story_keys (key, article_id) VALUES (?, ?)",
            [(key, article_id) for key in keys],
        )

    def _prune_story_index(self, cutoff: datetime, limit: int) -> int:
        """Forget the keys of up to ``limit`` articles seen before ``cutoff``: the index
        holds only the window, so a lookup costs the same after a year as after a day."""
        rows = list(
            self.db.query(
                "SELECT article_id, keys FROM story_index WHERE seen_at < ?"
                " ORDER BY seen_at LIMIT ?",
                [iso(cutoff), limit],
            )
        )
        for row in rows:
            keys = struct.unpack(f"<{len(row['keys']) // 8}q", row["keys"])
            self.db.conn.executemany(
                "DELETE FROM story_keys WHERE key = ? AND article_id = ?",
                [(key, row["article_id"]) for key in keys],
            )
        self.db.conn.executemany(
            "DELETE FROM story_index WHERE article_id = ?", [(r["article_id"],) for r in rows]
        )
        return len(rows)

    def first_alert_of_story(self, story_id: int, *, besides: str = "") -> str | None:
        """The id of the first alert on a story other than ``besides`` (what later alerts
        on the story thread under); None when ``besides`` is itself the first."""
        row = self._one(
            "SELECT id FROM alerts WHERE story_id = ? ORDER BY created_at, rowid LIMIT 1",
            [story_id],
        )
        return str(row["id"]) if row and row["id"] != besides else None

    def _insert_alert(
        self, article_id: int, pending: PendingAlert, now: datetime
    ) -> tuple[str, int] | None:
        """Create the alert (once per watch and story) and one delivery per destination."""
        story = self._one("SELECT story_id FROM articles WHERE id = ?", [article_id])
        assert story is not None
        alert_id = uuid.uuid4().hex
        row = self._one(
            "INSERT INTO alerts (id, watch, story_id, article_id, matched, snippet, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
            [
                alert_id,
                pending.match.watch,
                story["story_id"],
                article_id,
                _hits_json(pending.match.hits),
                pending.match.snippet,
                iso(now),
            ],
        )
        if row is None:
            return None
        for destination in pending.destinations:
            self.db.execute(
                "INSERT INTO deliveries (alert_id, destination, next_attempt_at, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [alert_id, destination, iso(now), iso(now)],
            )
        return alert_id, len(pending.destinations)

    def articles_since(
        self, since: datetime | None, limit: int | None = None
    ) -> list[StoredArticle]:
        """Stored articles first seen at or after ``since`` (all if None), oldest first."""
        sql = (
            f"SELECT a.*, f.url AS feed_url, {FEED_NAME} FROM articles a "
            "JOIN feeds f ON f.id = a.feed_id WHERE a.seen_at >= ? AND a.pruned_at IS NULL "
            f"AND a.entry_key NOT LIKE '{NOTICE_KEY_PREFIX}%' "
            "ORDER BY a.seen_at, a.id"
        )
        params: list[Any] = [iso(since) or ""]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_stored_article(r) for r in self.db.query(sql, params)]

    def mark_document(self, feed_url: str, entry_keys: Sequence[str], now: datetime) -> None:
        """Record that the feed's document, parsed at ``now``, holds these entries (so that
        :meth:`prune` knows which tombstones are still in a feed)."""
        with self.write():
            feed_id = self._feed_id(feed_url)
            self.db.execute(
                "UPDATE feeds SET last_document_at = ? WHERE id = ?", [iso(now), feed_id]
            )
            for start in range(0, len(entry_keys), 500):
                chunk = list(entry_keys[start : start + 500])
                marks = ", ".join("?" for _ in chunk)
                self.db.execute(
                    f"UPDATE entries SET last_seen_at = ? WHERE feed_id = ? "
                    f"AND entry_key IN ({marks})",
                    [iso(now), feed_id, *chunk],
                )

    def prune(self, before: datetime, now: datetime) -> PruneReport:
        """Bound the database: forget what is older than ``before`` except what dedup needs.

        - Alerts created before it, with their deliveries, once none is still pending.
        - Articles first seen before it and no longer behind any alert become tombstones:
          their text is dropped, their identity (entry keys, normalized link) is kept, so an
          item that is still in a feed is still known and never alerts again.
        - A tombstone is deleted only when no feed has shown it since ``before`` and it is
          missing from the latest document of every feed that had it (a feed that answers
          304 for months still holds its entries).
        """
        cutoff = iso(before)
        with self.write():
            old_alerts = (
                "SELECT id FROM alerts WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM"
                " deliveries d WHERE d.alert_id = alerts.id AND d.state = 'pending')"
            )
            self.db.execute(f"DELETE FROM deliveries WHERE alert_id IN ({old_alerts})", [cutoff])
            alerts = self.db.execute(f"DELETE FROM alerts WHERE id IN ({old_alerts})", [cutoff])
            unalerted = "NOT EXISTS (SELECT 1 FROM alerts al WHERE al.article_id = articles.id)"
            tombstoned = self.db.execute(
                "UPDATE articles SET title = '', summary = '', content = '', author = '',"
                " link = NULL, pruned_at = ?"
                f" WHERE pruned_at IS NULL AND seen_at < ? AND {unalerted}",
                [iso(now), cutoff],
            )
            seen = "COALESCE(e.last_seen_at, e.seen_at)"
            unseen = (
                "SELECT id FROM articles WHERE pruned_at IS NOT NULL AND NOT EXISTS (SELECT 1"
                " FROM entries e JOIN feeds f ON f.id = e.feed_id"
                f" WHERE e.article_id = articles.id AND ({seen} >= ?"
                f" OR f.last_document_at IS NULL OR {seen} >= f.last_document_at))"
                f" AND {unalerted} AND NOT EXISTS"
                " (SELECT 1 FROM story_index si WHERE si.article_id = articles.id)"
            )
            forgotten = [r["id"] for r in self.db.query(unseen, [cutoff])]
            for start in range(0, len(forgotten), 500):
                chunk = forgotten[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                self.db.execute(f"DELETE FROM entries WHERE article_id IN ({marks})", chunk)
                self.db.execute(f"DELETE FROM articles WHERE id IN ({marks})", chunk)
            self.db.execute(
                "DELETE FROM stories WHERE NOT EXISTS"
                " (SELECT 1 FROM articles a WHERE a.story_id = stories.id)"
            )
        return PruneReport(int(alerts.rowcount), int(tombstoned.rowcount), len(forgotten))

    def record_health(
        self,
        feed_url: str,
        health: str,
        notice: HealthNotice | None,
        destinations: Sequence[str],
        now: datetime,
    ) -> str | None:
        """Record the feed's newly announced ``health`` and, in the same transaction, queue
        ``notice`` (if any) for ``destinations`` as an alert of kind ``health``. Returns the
        alert id. The notice rides on an article row of its own that no dedup, match or
        replay ever sees (its entry key has NOTICE_KEY_PREFIX and it has no link)."""
        with self.write():
            feed_id = self._feed_id(feed_url)
            self.db.execute("UPDATE feeds SET health = ? WHERE id = ?", [health, feed_id])
            if notice is None or not destinations:
                return None
            story_id = self.db.execute(
                "INSERT INTO stories (created_at, last_seen_at) VALUES (?, ?)", [iso(now), iso(now)]
            ).lastrowid
            article_id = self.db.execute(
                "INSERT INTO articles (feed_id, story_id, entry_key, title, summary, seen_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    feed_id,
                    story_id,
                    f"{NOTICE_KEY_PREFIX}{uuid.uuid4().hex}",
                    notice.title,
                    notice.detail,
                    iso(now),
                ],
            ).lastrowid
            alert_id = uuid.uuid4().hex
            self.db.execute(
                "INSERT INTO alerts (id, watch, story_id, article_id, matched, snippet,"
                " created_at, kind) VALUES (?, ?, ?, ?, '[]', ?, ?, 'health')",
                [alert_id, notice.watch, story_id, article_id, notice.detail, iso(now)],
            )
            for destination in destinations:
                self.db.execute(
                    "INSERT INTO deliveries (alert_id, destination, next_attempt_at, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    [alert_id, destination, iso(now), iso(now)],
                )
        return alert_id

    # -- outbox ------------------------------------------------------------------------

    def due_deliveries(self, now: datetime, limit: int = 500) -> list[Delivery]:
        """Pending deliveries whose next attempt is due, oldest first."""
        rows = self.db.query(
            "SELECT * FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ? "
            "ORDER BY next_attempt_at, id LIMIT ?",
            [iso(now), limit],
        )
        return [self._delivery(r) for r in list(rows)]

    def due_for(self, destination: str, now: datetime, limit: int = 500) -> list[Delivery]:
        """One destination's pending deliveries that are due at ``now``, oldest first."""
        rows = self.db.query(
            "SELECT * FROM deliveries WHERE destination = ? AND state = 'pending' "
            "AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
            [destination, iso(now), limit],
        )
        return [self._delivery(r) for r in list(rows)]

    def next_due_at(
        self, destination: str | None = None, after: datetime | None = None
    ) -> datetime | None:
        """When the earliest pending delivery (of ``destination``, or of any; falling due
        after ``after``, if given) falls due."""
        where = ""
        params: list[Any] = []
        if destination is not None:
            where, params = " AND destination = ?", [destination]
        if after is not None:
            where, params = where + " AND next_attempt_at > ?", [*params, iso(after)]
        row = self._one(
            f"SELECT MIN(next_attempt_at) AS t FROM deliveries WHERE state = 'pending'{where}",
            params,
        )
        return from_iso(row["t"]) if row else None

    def destination_state(self, name: str) -> DestinationState:
        """What the outbox remembers about destination ``name`` (fresh if nothing)."""
        row = self._one("SELECT * FROM destination_state WHERE name = ?", [name])
        if row is None:
            return DestinationState(name)
        return DestinationState(
            name=name,
            failures=int(row["failures"]),
            paused_until=from_iso(row["paused_until"]),
            last_error=row["last_error"],
            last_success_at=from_iso(row["last_success_at"]),
        )

    def assign_units(self, units: Mapping[str, Sequence[int]]) -> None:
        """Commit which message each delivery goes in (unit id -> delivery ids) before any
        of them is sent, so that after a crash the same message goes out under the same key.
        A delivery that already has a unit keeps it."""
        with self.write():
            for unit, ids in units.items():
                self.db.conn.executemany(
                    "UPDATE deliveries SET unit = ? WHERE id = ? AND unit IS NULL",
                    [(unit, i) for i in ids],
                )

    def mark_sent(
        self, delivery_ids: int | Sequence[int], now: datetime, destination: str | None = None
    ) -> None:
        """The destination accepted these deliveries (one message); it is no longer paused."""
        ids = [delivery_ids] if isinstance(delivery_ids, int) else list(delivery_ids)
        with self.write():
            self.db.conn.executemany(
                "UPDATE deliveries SET state = 'sent', sent_at = ?, attempts = attempts + 1, "
                "last_error = NULL WHERE id = ? AND state = 'pending'",
                [(iso(now), i) for i in ids],
            )
            if destination is not None:
                self.db.execute(
                    "INSERT INTO destination_state (name, failures, last_success_at) "
                    "VALUES (?, 0, ?) ON CONFLICT (name) DO UPDATE SET failures = 0, "
                    "paused_until = NULL, last_error = NULL, "
                    "last_success_at = excluded.last_success_at",
                    [destination, iso(now)],
                )

    def mark_failed(
        self,
        delivery_ids: int | Sequence[int],
        error: str,
        *,
        retry_at: datetime | None,
        now: datetime,
        destination: str | None = None,
        pause_until: datetime | None = None,
        give_up_before: datetime | None = None,
    ) -> int:
        """An attempt failed: retry at ``retry_at``, or give up (dead) when it is None.

        With ``pause_until`` the whole ``destination`` waits (a transient failure), and its
        other pending deliveries created before ``give_up_before`` are given up as well.
        Returns how many other deliveries were given up.
        """
        ids = [delivery_ids] if isinstance(delivery_ids, int) else list(delivery_ids)
        state = DeliveryState.PENDING if retry_at is not None else DeliveryState.DEAD
        with self.write():
            self.db.conn.executemany(
                "UPDATE deliveries SET state = ?, attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = ? WHERE id = ?",
                [(state.value, error, iso(retry_at or now), i) for i in ids],
            )
            if destination is None or pause_until is None:
                return 0
            self.db.execute(
                "INSERT INTO destination_state (name, failures, paused_until, last_error) "
                "VALUES (?, 1, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                "failures = failures + 1, paused_until = excluded.paused_until, "
                "last_error = excluded.last_error",
                [destination, iso(pause_until), error],
            )
            if give_up_before is None:
                return 0
            cursor = self.db.execute(
                "UPDATE deliveries SET state = 'dead', last_error = ? WHERE destination = ? "
                "AND state = 'pending' AND created_at < ?",
                [f"given up: older than max_age while the destination fails ({error})",
                 destination, iso(give_up_before)],
            )  # fmt: skip
            return int(cursor.rowcount)

    def deliveries(
        self,
        state: DeliveryState | None = None,
        limit: int = 100,
        destination: str | None = None,
    ) -> list[Delivery]:
        """Recent deliveries, newest first, optionally only in ``state`` / to ``destination``."""
        clauses, params = [], []
        if state is not None:
            clauses.append("state = ?")
            params.append(state.value)
        if destination is not None:
            clauses.append("destination = ?")
            params.append(destination)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.db.query(
            f"SELECT * FROM deliveries {where} ORDER BY created_at DESC, id DESC LIMIT ?",
            [*params, limit],
        )
        return [self._delivery(r) for r in list(rows)]

    def retry_dead(self, alert_ids: Sequence[str], now: datetime) -> int:
        """Put dead deliveries (of these alerts, or all if empty) back into the queue, to
        be sent again as new messages; their destinations' pauses end (the user says the
        cause is fixed)."""
        where = "state = 'dead'"
        params: list[Any] = [iso(now)]
        if alert_ids:
            where += f" AND alert_id IN ({', '.join('?' for _ in alert_ids)})"
            params += list(alert_ids)
        with self.write():
            self.db.execute(
                "UPDATE destination_state SET paused_until = NULL WHERE name IN "
                f"(SELECT destination FROM deliveries WHERE {where})",
                params[1:],
            )
            cursor = self.db.execute(
                "UPDATE deliveries SET state = 'pending', next_attempt_at = ?, attempts = 0, "
                f"unit = NULL WHERE {where}",
                params,
            )
        return int(cursor.rowcount)

    def alert(self, alert_id: str) -> Alert:
        """The alert ``alert_id`` as destinations render it, with its 'also' sightings."""
        row = self._one(
            "SELECT al.*, a.feed_id, a.entry_key, a.link, a.link_key, a.title, a.summary,"
            f" a.content, a.published, a.author, f.url AS feed_url, {FEED_NAME}"
            " FROM alerts al JOIN articles a ON a.id = al.article_id"
            " JOIN feeds f ON f.id = a.feed_id WHERE al.id = ?",
            [alert_id],
        )
        if row is None:
            raise StoreError(f"no alert {alert_id}")
        article = _article(row)
        return Alert(
            id=row["id"],
            watch=row["watch"],
            article=article,
            feed=FeedRef(name=row["feed_title"], url=row["feed_url"]),
            matched=_hits_from_json(row["matched"]),
            snippet=row["snippet"],
            created_at=from_iso(row["created_at"]) or datetime.min.replace(tzinfo=UTC),
            also=tuple(self._also(int(row["story_id"]), int(row["article_id"]))),
            thread_id=self.first_alert_of_story(int(row["story_id"]), besides=row["id"]),
            kind=row["kind"],
        )

    def _also(self, story_id: int, article_id: int) -> Iterator[Sighting]:
        """Copies of the story other than the alerted (article, feed) pair."""
        rows = self.db.query(
            "SELECT COALESCE(e.title, a.title) AS title, COALESCE(e.link, a.link) AS link,"
            f" f.url AS feed_url, {FEED_NAME}"
            " FROM entries e JOIN articles a ON a.id = e.article_id"
            " JOIN feeds f ON f.id = e.feed_id"
            " WHERE a.story_id = ? AND NOT (e.article_id = ? AND e.feed_id = a.feed_id)"
            " ORDER BY e.seen_at, e.rowid",
            [story_id, article_id],
        )
        for r in rows:
            yield Sighting(
                title=r["title"],
                url=r["link"],
                feed=FeedRef(name=r["feed_title"], url=r["feed_url"]),
            )

    def _thread_root(self, alert_id: str, destination: str) -> str | None:
        """The first earlier alert on the same story that went to the same destination
        (preferably of the same watch): a later alert is a follow-up in its thread."""
        row = self._one(
            "SELECT first.id FROM alerts al JOIN alerts first ON first.story_id = al.story_id"
            " AND first.rowid < al.rowid"
            " JOIN deliveries d ON d.alert_id = first.id AND d.destination = ?"
            " WHERE al.id = ? ORDER BY first.watch = al.watch DESC, first.rowid LIMIT 1",
            [destination, alert_id],
        )
        return str(row["id"]) if row else None

    def _delivery(self, row: Mapping[str, Any]) -> Delivery:
        alert = self.alert(row["alert_id"])
        # A destination threads only under a message it was itself sent.
        thread = self._thread_root(alert.id, row["destination"])
        return Delivery(
            id=int(row["id"]),
            alert=replace(alert, thread_id=thread),
            destination=row["destination"],
            state=DeliveryState(row["state"]),
            attempts=int(row["attempts"]),
            next_attempt_at=from_iso(row["next_attempt_at"]),
            last_error=row["last_error"],
            sent_at=from_iso(row["sent_at"]),
            unit=row["unit"],
            created_at=from_iso(row["created_at"]),
        )


class AsyncStore:
    """A Store owned by one dedicated thread, for use from asyncio."""

    def __init__(self, path: Path) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newswatch-db")
        self._path = path
        self._store: Store | None = None

    async def open(self) -> AsyncStore:
        """Open the database in the store thread."""
        self._store = await self._run(Store, self._path)
        return self

    async def _run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    async def call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``method(store, *args, **kwargs)`` in the store thread, e.g. ``Store.unseen``."""
        store = self._store
        if store is None:
            raise StoreError("store is not open")
        return await self._run(method, store, *args, **kwargs)

    async def close(self) -> None:
        """Close the database and stop the thread."""
        if self._store is not None:
            await self._run(self._store.close)
            self._store = None
        self._executor.shutdown(wait=True)


def _feed_state(row: Mapping[str, Any]) -> FeedState:
    return FeedState(
        url=row["url"],
        current_url=row["current_url"],
        title=row["title"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_fetch_at=from_iso(row["last_fetch_at"]),
        last_success_at=from_iso(row["last_success_at"]),
        last_new_item_at=from_iso(row["last_new_item_at"]),
        last_status=row["last_status"],
        error_streak=int(row["error_streak"]),
        last_error=row["last_error"],
        next_poll_at=from_iso(row["next_poll_at"]),
        backoff_until=from_iso(row["backoff_until"]),
        failing_since=from_iso(row["failing_since"]),
        items_seen=int(row["items_seen"]),
        gone=bool(row["gone"]),
        warning=row.get("last_warning"),
        health=row.get("health"),
    )


def _article(row: Mapping[str, Any]) -> Article:
    return Article(
        feed_url=row["feed_url"],
        entry_key=row["entry_key"],
        link=row["link"],
        link_key=row["link_key"],
        title=row["title"],
        summary=row["summary"],
        content=row["content"],
        published=from_iso(row["published"]),
        author=row["author"],
    )


def _stored_article(row: Mapping[str, Any]) -> StoredArticle:
    return StoredArticle(
        id=int(row["id"]),
        article=_article(row),
        feed=FeedRef(name=row["feed_title"], url=row["feed_url"]),
        seen_at=from_iso(row["seen_at"]) or datetime.min.replace(tzinfo=UTC),
        story_id=int(row["story_id"]),
    )


def _hits_json(hits: Iterable[Hit]) -> str:
    return json.dumps(
        [
            {
                "term": h.term,
                "field": h.field,
                "start": h.start,
                "end": h.end,
                "text": h.text,
                "group": h.group,
            }
            for h in hits
        ],
        ensure_ascii=False,
    )


def _hits_from_json(text: str) -> tuple[Hit, ...]:
    return tuple(
        Hit(
            term=h["term"],
            field=h["field"],
            start=h["start"],
            end=h["end"],
            text=h["text"],
            group=h.get("group"),
        )
        for h in json.loads(text)
    )
