"""The articles layer of ``Store``: what is new, committing a poll (articles, sightings,
alerts and their deliveries in one transaction), reading articles back, retention, and
feed-health notices.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from newswatch.models import Article
from newswatch.store.schema import (
    FEED_NAME,
    NOTICE_KEY_PREFIX,
    hits_json,
    iso,
    stored_article_from_row,
)
from newswatch.store.stories import _StoryStore
from newswatch.store.values import (
    FeedUpdate,
    HealthNotice,
    PendingAlert,
    PollRecord,
    PruneReport,
    StoredArticle,
    StoryRules,
)


class _ArticleStore(_StoryStore):
    """Articles and their identities, the alerts they cause, and pruning."""

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
            story_id = self._story_of(signature, stories, now)
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
            self._index_story(int(article_id), signature, now)
        return int(article_id)

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
                hits_json(pending.match.hits),
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
        return [stored_article_from_row(r) for r in self.db.query(sql, params)]

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
