"""The feeds layer of ``Store``: each configured feed's state row (conditional-GET
validators, error streak, backoff, warning) and how one poll updates it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from newswatch.models import FeedState
from newswatch.store.base import _StoreBase
from newswatch.store.schema import feed_state_from_row, iso
from newswatch.store.values import FeedUpdate


class _FeedStore(_StoreBase):
    """Feed state."""

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
        return feed_state_from_row(row) if row else FeedState(url=url, current_url=url)

    def feed_states(self) -> list[FeedState]:
        """Every feed the store knows, in URL order."""
        return [feed_state_from_row(r) for r in self.db.query("SELECT * FROM feeds ORDER BY url")]

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
