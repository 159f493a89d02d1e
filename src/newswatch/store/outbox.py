"""The outbox layer of ``Store``: due deliveries per destination, their outcomes
(sent, failed, dead, retried), per-destination pause state, and each delivery's alert as
destinations render it (with its 'also' sightings and thread root).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from newswatch.errors import StoreError
from newswatch.models import Alert, Delivery, DeliveryState, DestinationState, Sighting
from newswatch.store.articles import _ArticleStore
from newswatch.store.schema import (
    FEED_NAME,
    article_from_row,
    from_iso,
    hits_from_json,
    iso,
    shown_feed,
)


class _OutboxStore(_ArticleStore):
    """The alert outbox."""

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
        article = article_from_row(row)
        return Alert(
            id=row["id"],
            watch=row["watch"],
            article=article,
            feed=shown_feed(row),
            matched=hits_from_json(row["matched"]),
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
                feed=shown_feed(r),
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
