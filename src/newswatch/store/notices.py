"""The notices table: feed-health notices, stored as what they are — which feed, which
health, a title and a detail — and delivered through an alert of kind ``health`` that
refers to the notice (see :func:`newswatch.store.outbox.insert_notice_alert`).

Functions over the shared :class:`~newswatch.store.base.Db`; the writes among them run
inside a transaction the caller (a unit of work) holds.
"""

from __future__ import annotations

from datetime import datetime

from newswatch.store.base import Db
from newswatch.store.schema import iso
from newswatch.store.values import HealthNotice


def insert(db: Db, feed: int, health: str, notice: HealthNotice, now: datetime) -> int:
    """Store a notice of the feed's new ``health``; return its id."""
    return db.insert(
        "INSERT INTO notices (feed_id, health, title, detail, created_at) VALUES (?, ?, ?, ?, ?)",
        [feed, health, notice.title, notice.detail, iso(now)],
    )


def forget_unalerted(db: Db) -> int:
    """Delete the notices whose alert was pruned: nothing can deliver or show them again."""
    cursor = db.execute(
        "DELETE FROM notices WHERE NOT EXISTS"
        " (SELECT 1 FROM alerts al WHERE al.notice_id = notices.id)"
    )
    return int(cursor.rowcount)
