"""The database schema and the conversions between rows and values.

The migrations ``m001``…``m013`` are applied in order by ``sqlite_utils``, which records each
applied one by its function name: never rename or reorder them, only add new ones. Here too
are the text form of times (``iso``/``from_iso``) and the row-to-value converters every
layer of the store shares.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from newswatch.models import Article, Claim, FeedRef, FeedState, Hit
from newswatch.redact import redact_feed_url
from newswatch.store.values import StoredArticle

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


@migrations()
def m007_story_fingerprints(db: sqlite_utils.Database) -> None:
    """Each indexed article's story fingerprint (the features ``cluster`` compares), so a
    candidate is judged without re-reading its text; NULL for rows indexed before."""
    db.executescript(
        """
        ALTER TABLE story_index ADD COLUMN fingerprint BLOB;
        """
    )


@migrations()
def m008_notices(db: sqlite_utils.Database) -> None:
    """Feed-health notices in a table of their own. Until now each notice rode on an
    article of its own (entry key ``newswatch:notice:…``, no link) in a story of its own,
    which every query of articles had to filter out. Each moves to ``notices`` under its
    article's id, with its alert and pending deliveries; an alert of kind ``health`` refers
    to its notice and has no article or story. ``alerts`` is rebuilt (SQLite cannot drop a
    NOT NULL) with its rowids, which order a story's alerts; foreign keys are off while
    migrating and checked before the commit (``Base``)."""
    db.executescript(
        """
        CREATE TABLE notices (
            id INTEGER PRIMARY KEY,
            feed_id INTEGER NOT NULL REFERENCES feeds(id),
            health TEXT,  -- NULL: a notice from before m008, which did not record it
            title TEXT NOT NULL,
            detail TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        INSERT INTO notices (id, feed_id, title, detail, created_at)
            SELECT a.id, a.feed_id, a.title, a.summary, al.created_at
            FROM alerts al JOIN articles a ON a.id = al.article_id WHERE al.kind = 'health';
        CREATE TABLE alerts_m008 (
            id TEXT PRIMARY KEY,
            watch TEXT NOT NULL,
            story_id INTEGER REFERENCES stories(id),     -- NULL for a notice
            article_id INTEGER REFERENCES articles(id),  -- NULL for a notice
            notice_id INTEGER REFERENCES notices(id),    -- set for kind 'health' only
            matched TEXT NOT NULL,
            snippet TEXT NOT NULL,
            created_at TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT 'article',
            UNIQUE (watch, story_id),
            CHECK ((article_id IS NULL) = (notice_id IS NOT NULL))
        );
        INSERT INTO alerts_m008 (rowid, id, watch, story_id, article_id, notice_id, matched,
                                 snippet, created_at, kind)
            SELECT rowid, id, watch,
                   CASE kind WHEN 'health' THEN NULL ELSE story_id END,
                   CASE kind WHEN 'health' THEN NULL ELSE article_id END,
                   CASE kind WHEN 'health' THEN article_id END,
                   matched, snippet, created_at, kind
            FROM alerts;
        DROP TABLE alerts;
        ALTER TABLE alerts_m008 RENAME TO alerts;
        CREATE INDEX alerts_story ON alerts(story_id, created_at);
        CREATE INDEX alerts_notice ON alerts(notice_id) WHERE notice_id IS NOT NULL;
        DELETE FROM stories WHERE id IN
            (SELECT story_id FROM articles WHERE entry_key LIKE 'newswatch:notice:%');
        DELETE FROM articles WHERE entry_key LIKE 'newswatch:notice:%';
        """
    )


@migrations()
def m009_story_join_reasons(db: sqlite_utils.Database) -> None:
    """Why each article joined its story (issue 13): the signal (``shingles``, ``lede``,
    ``anchors``), its score and the article it was found like; NULL for an article that
    began its story, or joined one before this migration."""
    db.executescript(
        """
        ALTER TABLE articles ADD COLUMN joined_by TEXT;
        ALTER TABLE articles ADD COLUMN joined_score REAL;
        ALTER TABLE articles ADD COLUMN joined_to INTEGER;
        """
    )


@migrations()
def m010_claims(db: sqlite_utils.Database) -> None:
    """Claims, so that processes sharing the database never do the same work: the
    newswatch instances at work on it (each renews its row while it runs), and on feeds
    and deliveries the instance polling / sending it now, since when and until when its
    claim holds (renewed while the work runs; anyone may take an expired claim over).
    ``polled_by`` is the instance that polled a feed last."""
    db.executescript(
        """
        CREATE TABLE instances (
            id TEXT PRIMARY KEY,  -- random per process (a pid is reused)
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            started_at TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            expires_at TEXT NOT NULL  -- alive until then unless it renews
        );
        ALTER TABLE feeds ADD COLUMN claimed_by TEXT;
        ALTER TABLE feeds ADD COLUMN claimed_at TEXT;
        ALTER TABLE feeds ADD COLUMN claim_expires TEXT;
        ALTER TABLE feeds ADD COLUMN polled_by TEXT;
        ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
        ALTER TABLE deliveries ADD COLUMN claimed_at TEXT;
        ALTER TABLE deliveries ADD COLUMN claim_expires TEXT;
        CREATE INDEX deliveries_claimed ON deliveries(claimed_by) WHERE claimed_by IS NOT NULL;
        """
    )


@migrations()
def m011_story_key_format(db: sqlite_utils.Database) -> None:
    """The version of the LSH keys of each indexed article (1: datasketch's MinHash, the
    only one before), so that a newswatch whose keys differ keys the window again."""
    db.executescript("ALTER TABLE story_index ADD COLUMN key_format INTEGER NOT NULL DEFAULT 1;")


@migrations()
def m012_story_merges(db: sqlite_utils.Database) -> None:
    """Stories that merge (issue 13): a story absorbed by an older one records which
    (``merged_into``) and when. A watch's alerts on the two stories that both reached a
    destination are both kept, the absorbed story's marked ``merged_from`` it; so
    "one alert per (watch, story)" holds for the alerts without ``merged_from``, a unique
    index rather than a constraint. ``alerts`` is rebuilt (SQLite cannot drop a table
    constraint) with its rowids, as in m008."""
    db.executescript(
        """
        ALTER TABLE stories ADD COLUMN merged_into INTEGER;  -- the story that absorbed it
        ALTER TABLE stories ADD COLUMN merged_at TEXT;
        CREATE INDEX stories_merged ON stories(merged_into) WHERE merged_into IS NOT NULL;
        CREATE TABLE alerts_m012 (
            id TEXT PRIMARY KEY,
            watch TEXT NOT NULL,
            story_id INTEGER REFERENCES stories(id),     -- NULL for a notice
            article_id INTEGER REFERENCES articles(id),  -- NULL for a notice
            notice_id INTEGER REFERENCES notices(id),    -- set for kind 'health' only
            matched TEXT NOT NULL,
            snippet TEXT NOT NULL,
            created_at TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT 'article',
            merged_from INTEGER,  -- the story it was raised on, if that story was absorbed
            CHECK ((article_id IS NULL) = (notice_id IS NOT NULL))
        );
        INSERT INTO alerts_m012 (rowid, id, watch, story_id, article_id, notice_id, matched,
                                 snippet, created_at, kind)
            SELECT rowid, id, watch, story_id, article_id, notice_id, matched, snippet,
                   created_at, kind
            FROM alerts;
        DROP TABLE alerts;
        ALTER TABLE alerts_m012 RENAME TO alerts;
        CREATE UNIQUE INDEX alerts_watch_story ON alerts(watch, story_id)
            WHERE merged_from IS NULL;
        CREATE INDEX alerts_story ON alerts(story_id, created_at);
        CREATE INDEX alerts_notice ON alerts(notice_id) WHERE notice_id IS NOT NULL;
        """
    )


@migrations()
def m013_shared_rate(db: sqlite_utils.Database) -> None:
    """A destination's ``rate`` counted over every process on the database: the recent
    sends to it, and how many were ever recorded (a claim records a send only if that
    count is still what it read, so two processes never both take the last slot)."""
    db.executescript(
        """
        ALTER TABLE destination_state ADD COLUMN rate_sends INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE destination_sends (
            destination TEXT NOT NULL,
            sent_at TEXT NOT NULL
        );
        CREATE INDEX destination_sends_at ON destination_sends(destination, sent_at);
        """
    )


_last_iso: tuple[datetime, str] | None = None  # a poll's writes give the same ``now``


def iso(value: datetime | None) -> str | None:
    """A sortable text form of an aware datetime, in UTC."""
    global _last_iso
    if value is None:
        return None
    last = _last_iso  # one read: another thread may replace it, never half of it
    if last is not None and last[0] == value:  # the same instant: the same UTC text
        return last[1]
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    text = value.astimezone(UTC).isoformat(timespec="microseconds")
    _last_iso = (value, text)
    return text


def from_iso(value: str | None) -> datetime | None:
    """The inverse of :func:`iso`."""
    return datetime.fromisoformat(value) if value else None


def feed_state_from_row(row: Mapping[str, Any]) -> FeedState:
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
        claim=claim_from_row(row),
    )


# The pid and host of the instance that holds a row's claim, beside the row's columns.
CLAIMANT = (
    "(SELECT pid FROM instances i WHERE i.id = claimed_by) AS claim_pid,"
    " (SELECT host FROM instances i WHERE i.id = claimed_by) AS claim_host"
)


def claim_from_row(row: Mapping[str, Any]) -> Claim | None:
    """The claim on a feed or delivery row read with :data:`CLAIMANT` (None: unclaimed)."""
    since, expires = from_iso(row.get("claimed_at")), from_iso(row.get("claim_expires"))
    if row.get("claimed_by") is None or since is None or expires is None:
        return None
    return Claim(int(row.get("claim_pid") or 0), row.get("claim_host") or "?", since, expires)


def article_from_row(row: Mapping[str, Any]) -> Article:
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


def feed_name(row: Mapping[str, Any]) -> str:
    """The feed's configured name, else its own title, else its URL as logs show it."""
    name = str(row["feed_title"])
    return redact_feed_url(name) if name == row["feed_url"] else name


def shown_feed(row: Mapping[str, Any]) -> FeedRef:
    """The feed as alerts show it to the outside (payloads, mail, ``alerts``): its URL
    without user info or query, which may hold credentials (SPEC §7)."""
    return FeedRef(name=feed_name(row), url=redact_feed_url(row["feed_url"]))


def stored_article_from_row(row: Mapping[str, Any]) -> StoredArticle:
    return StoredArticle(
        id=int(row["id"]),
        article=article_from_row(row),
        feed=FeedRef(name=feed_name(row), url=row["feed_url"]),
        seen_at=from_iso(row["seen_at"]) or datetime.min.replace(tzinfo=UTC),
        story_id=int(row["story_id"]),
        first_fetch="first_fetch" in row.keys() and bool(row["first_fetch"]),  # noqa: SIM118 (sqlite3.Row)
    )


def hits_json(hits: Iterable[Hit]) -> str:
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


def hits_from_json(text: str) -> tuple[Hit, ...]:
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
