"""The feeds table: each configured feed's state row (conditional-GET validators, error
streak, backoff, warning, announced health) and how one poll changes it.

Functions over the shared :class:`~newswatch.store.base.Db`; the writes among them run
inside a transaction the caller (a unit of work) holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from newswatch.models import FeedState
from newswatch.store.base import Db, in_chunks
from newswatch.store.schema import CLAIMANT, feed_state_from_row, iso
from newswatch.store.values import FeedUpdate


def ensure(db: Db, feeds: Iterable[tuple[str, str | None]]) -> None:
    """Make sure each configured feed (url, name) has a state row with its current name.
    Writes only what changed, so a reload that renames nothing locks no row (another
    instance may be renewing its claims on them); renamed rows are locked in id order,
    new ones inserted in URL order (the order every instance uses)."""
    wanted = {url: name or "" for url, name in feeds}
    with db.write():
        known = {r["url"]: r["name"] for r in db.query("SELECT url, name FROM feeds")}
        renamed = [u for u, name in wanted.items() if u in known and known[u] != name]
        if renamed:
            marks = ", ".join("?" for _ in renamed)
            db.lock_rows("feeds", f"url IN ({marks})", renamed)
            db.executemany(
                "UPDATE feeds SET name = ? WHERE url = ?", [(wanted[u], u) for u in renamed]
            )
        new = sorted(u for u in wanted if u not in known)
        db.executemany(
            "INSERT INTO feeds (url, current_url, name) VALUES (?, ?, ?) "
            "ON CONFLICT (url) DO UPDATE SET name = excluded.name",
            [(u, u, wanted[u]) for u in new],
        )


def state(db: Db, url: str) -> FeedState:
    """The state of the feed configured as ``url`` (a fresh one if never seen)."""
    row = db.one(f"SELECT *, {CLAIMANT} FROM feeds WHERE url = ?", [url])
    return feed_state_from_row(row) if row else FeedState(url=url, current_url=url)


def states(db: Db) -> list[FeedState]:
    """Every feed the store knows, in URL order."""
    return [
        feed_state_from_row(r) for r in db.query(f"SELECT *, {CLAIMANT} FROM feeds ORDER BY url")
    ]


def find(db: Db, url: str) -> int | None:
    """The id of the feed ``url``, if the store knows it (a read: never creates it)."""
    row = db.one("SELECT id FROM feeds WHERE url = ?", [url])
    return int(row["id"]) if row else None


def feed_id(db: Db, url: str) -> int:
    """The id of the feed ``url``, creating its row if needed (inside a write)."""
    db.execute(
        "INSERT INTO feeds (url, current_url) VALUES (?, ?) ON CONFLICT DO NOTHING", [url, url]
    )
    found = find(db, url)
    assert found is not None
    return found


def apply_update(db: Db, feed: int, update: FeedUpdate, now: datetime) -> None:
    """Write what one poll changed in the feed's state: a success resets the error streak,
    a failure grows it; ``None`` fields of ``update`` are left as they are."""
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
    streak = ", error_streak = error_streak + 1, failing_since = COALESCE(failing_since, :now)"
    db.execute(
        f"UPDATE feeds SET {assignments}{'' if update.success else streak} WHERE id = :id",
        {**sets, "now": iso(now), "id": feed},
    )


def count_new(db: Db, feed: int, new: int, now: datetime) -> None:
    """Count ``new`` articles met in the feed at ``now`` (what ``stale`` is measured from)."""
    db.execute(
        "UPDATE feeds SET items_seen = items_seen + ?, last_new_item_at = ? WHERE id = ?",
        [new, iso(now), feed],
    )


def mark_document(db: Db, feed: int, entry_keys: Sequence[str], now: datetime) -> None:
    """Record that the feed's document, parsed at ``now``, holds these entries (so that
    pruning knows which tombstones are still in a feed)."""
    db.execute("UPDATE feeds SET last_document_at = ? WHERE id = ?", [iso(now), feed])
    for chunk, marks in in_chunks(entry_keys):
        db.execute(
            f"UPDATE entries SET last_seen_at = ? WHERE feed_id = ? AND entry_key IN ({marks})",
            [iso(now), feed, *chunk],
        )


def set_health(db: Db, feed: int, health: str) -> None:
    """Record the health last announced for the feed."""
    db.execute("UPDATE feeds SET health = ? WHERE id = ?", [health, feed])
