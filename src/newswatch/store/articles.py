"""The articles tables: articles and the per-feed entries that are copies of them — what is
new, recording a new article or a sighting of a known one, reading articles back, and
reducing old ones to tombstones.

Functions over the shared :class:`~newswatch.store.base.Db`; the writes among them run
inside a transaction the caller (a unit of work) holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from newswatch.models import Article
from newswatch.store.base import Db, in_chunks
from newswatch.store.schema import FEED_NAME, iso, stored_article_from_row
from newswatch.store.values import StoredArticle

# No alert points at the article (the alerts table is read, not written, here).
_UNALERTED = "NOT EXISTS (SELECT 1 FROM alerts al WHERE al.article_id = articles.id)"


def known_all(db: Db, feed: int | None, articles: Sequence[Article]) -> dict[str, int]:
    """The stored article each of ``articles`` is a copy of — the same entry in this
    feed, or else the same normalized link in any feed — by entry key (those that are
    copies of nothing are missing), in a few statements for a whole document."""
    found: dict[str, int] = {}
    if feed is not None:
        keys = list(dict.fromkeys(a.entry_key for a in articles))
        for chunk, marks in in_chunks(keys):
            rows = db.query(
                "SELECT entry_key, article_id FROM entries WHERE feed_id = ?"
                f" AND entry_key IN ({marks})",
                [feed, *chunk],
            )
            found.update((r["entry_key"], int(r["article_id"])) for r in rows)
    links = list(dict.fromkeys(a.link_key for a in articles if a.link_key))
    by_link: dict[str, int] = {}
    for chunk, marks in in_chunks(links):
        rows = db.query(f"SELECT link_key, id FROM articles WHERE link_key IN ({marks})", chunk)
        by_link.update((r["link_key"], int(r["id"])) for r in rows)
    for article in articles:
        if article.entry_key not in found and article.link_key in by_link:
            found[article.entry_key] = by_link[article.link_key]
    return found


def unseen(db: Db, feed: int | None, articles: Sequence[Article]) -> list[Article]:
    """The articles neither this feed's entry ids nor any feed's links have met before."""
    known_ones = known_all(db, feed, articles)
    return [a for a in articles if a.entry_key not in known_ones]


def record_sighting(db: Db, feed: int, article: Article, copy_of: int, now: datetime) -> None:
    """Record that ``feed`` shows a copy of the stored article ``copy_of``, under its own
    entry key, title and link (listed as 'also' in that story's alerts)."""
    db.execute(
        "INSERT INTO entries (feed_id, entry_key, article_id, seen_at, title, link) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [feed, article.entry_key, copy_of, iso(now), article.title, article.link],
    )


def insert(db: Db, feed: int, story: int, article: Article, now: datetime) -> int:
    """Store a new article in ``story`` with its first entry; return its id."""
    article_id = db.insert(
        "INSERT INTO articles (feed_id, story_id, entry_key, link, link_key, title, summary,"
        " content, published, author, seen_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [
            feed,
            story,
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
    )
    db.execute(
        "INSERT INTO entries (feed_id, entry_key, article_id, seen_at) VALUES (?, ?, ?, ?)",
        [feed, article.entry_key, article_id, iso(now)],
    )
    return article_id


def since(db: Db, start: datetime | None, limit: int | None = None) -> list[StoredArticle]:
    """Stored articles first seen at or after ``start`` (all if None), oldest first."""
    # Each feed's first sighting, found once for all feeds: as a subquery per row it
    # walked the seen_at index from the start for every article (`replay` of 10,000
    # stored articles took 58.8 s, 54 s of it this query; now 11 s in all).
    sql = (
        "WITH firsts AS (SELECT feed_id, MIN(seen_at) AS seen_at FROM articles"
        " GROUP BY feed_id)"
        f" SELECT a.*, f.url AS feed_url, {FEED_NAME}, a.seen_at = m.seen_at AS first_fetch"
        " FROM articles a JOIN feeds f ON f.id = a.feed_id"
        " JOIN firsts m ON m.feed_id = a.feed_id"
        " WHERE a.seen_at >= ? AND a.pruned_at IS NULL ORDER BY a.seen_at, a.id"
    )
    params: list[Any] = [iso(start) or ""]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [stored_article_from_row(r) for r in db.query(sql, params)]


def tombstone(db: Db, cutoff: datetime, now: datetime) -> int:
    """Reduce articles first seen before ``cutoff`` and behind no alert to their identity
    (entry keys, normalized link): an item still in a feed is still known, never new."""
    cursor = db.execute(
        "UPDATE articles SET title = '', summary = '', content = '', author = '',"
        " link = NULL, pruned_at = ?"
        f" WHERE pruned_at IS NULL AND seen_at < ? AND {_UNALERTED}",
        [iso(now), iso(cutoff)],
    )
    return int(cursor.rowcount)


def forget(db: Db, cutoff: datetime) -> int:
    """Delete the tombstones no feed has shown since ``cutoff`` and that are missing from
    the latest document of every feed that had them (a feed that answers 304 for months
    still holds its entries); return how many."""
    seen = "COALESCE(e.last_seen_at, e.seen_at)"
    gone = (
        "SELECT id FROM articles WHERE pruned_at IS NOT NULL AND NOT EXISTS (SELECT 1"
        " FROM entries e JOIN feeds f ON f.id = e.feed_id"
        f" WHERE e.article_id = articles.id AND ({seen} >= ?"
        f" OR f.last_document_at IS NULL OR {seen} >= f.last_document_at))"
        f" AND {_UNALERTED} AND NOT EXISTS"
        " (SELECT 1 FROM story_index si WHERE si.article_id = articles.id)"
    )
    forgotten = [r["id"] for r in db.query(gone, [iso(cutoff)])]
    for chunk, marks in in_chunks(forgotten):
        db.execute(f"DELETE FROM entries WHERE article_id IN ({marks})", chunk)
        db.execute(f"DELETE FROM articles WHERE id IN ({marks})", chunk)
    return len(forgotten)
