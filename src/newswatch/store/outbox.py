"""The outbox tables: alerts, their deliveries (one per destination) and each
destination's state (its pause, and its recent sends, which its ``rate`` counts across
every process on the database) — creating alerts, the due deliveries, their outcomes
(sent, dead, retried, given up), and each delivery's alert as destinations render it
(with its 'also' sightings and thread root). Planning what to send, and when the rate
allows it, is ``newswatch.outbox``'s.

Writes that change several deliveries lock them in id order (``Db.lock_rows``), then
the destination's row: one order for every writer.

Functions over the shared :class:`~newswatch.store.base.Db`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from newswatch.errors import StoreError
from newswatch.models import (
    Alert,
    Delivery,
    DeliveryState,
    DestinationState,
    SendWindow,
    Sighting,
)
from newswatch.store.base import Db
from newswatch.store.schema import (
    CLAIMANT,
    FEED_NAME,
    article_from_row,
    claim_from_row,
    from_iso,
    hits_from_json,
    hits_json,
    iso,
    shown_feed,
)
from newswatch.store.values import HealthNotice, Pace, PendingAlert

# An alert with what it is about: its article, or its notice shown as an article (a
# title, the detail as summary, no link) under a key of its own that no feed can have.
_ALERT = (
    "SELECT al.*, f.url AS feed_url, "
    f"{FEED_NAME}, COALESCE(a.entry_key, 'newswatch:notice:' || n.id) AS entry_key,"
    " a.link, a.link_key, COALESCE(a.title, n.title) AS title,"
    " COALESCE(a.summary, n.detail) AS summary, COALESCE(a.content, '') AS content,"
    " a.published, COALESCE(a.author, '') AS author"
    " FROM alerts al LEFT JOIN articles a ON a.id = al.article_id"
    " LEFT JOIN notices n ON n.id = al.notice_id"
    " JOIN feeds f ON f.id = COALESCE(a.feed_id, n.feed_id) WHERE al.id = ?"
)


def insert_alert(
    db: Db, article: int, story: int, pending: PendingAlert, now: datetime
) -> tuple[str, int] | None:
    """Create the alert of a new article (once per watch and story) and one delivery per
    destination; its id and how many deliveries, or None if the story already alerted."""
    alert_id = uuid.uuid4().hex
    row = db.one(
        "INSERT INTO alerts (id, watch, story_id, article_id, matched, snippet, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
        [
            alert_id,
            pending.match.watch,
            story,
            article,
            hits_json(pending.match.hits),
            pending.match.snippet,
            iso(now),
        ],
    )
    if row is None:
        return None
    _queue(db, alert_id, pending.destinations, now)
    return alert_id, len(pending.destinations)


def insert_notice_alert(
    db: Db, notice: int, content: HealthNotice, destinations: Sequence[str], now: datetime
) -> str:
    """Queue the stored notice ``notice`` for ``destinations`` as an alert of kind
    ``health`` (no matches; its detail is the snippet); return the alert id."""
    alert_id = uuid.uuid4().hex
    db.execute(
        "INSERT INTO alerts (id, watch, notice_id, matched, snippet, created_at, kind)"
        " VALUES (?, ?, ?, '[]', ?, ?, 'health')",
        [alert_id, content.watch, notice, content.detail, iso(now)],
    )
    _queue(db, alert_id, destinations, now)
    return alert_id


def _queue(db: Db, alert_id: str, destinations: Sequence[str], now: datetime) -> None:
    """One pending delivery of the alert per destination, due now."""
    db.executemany(
        "INSERT INTO deliveries (alert_id, destination, next_attempt_at, created_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(alert_id, d, iso(now), iso(now)) for d in destinations],
    )


def forget_alerts(db: Db, cutoff: datetime) -> int:
    """Delete the alerts created before ``cutoff``, with their deliveries, once none of
    them is still pending; return how many alerts."""
    old = (
        "SELECT id FROM alerts WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM"
        " deliveries d WHERE d.alert_id = alerts.id AND d.state = 'pending')"
    )
    db.execute(f"DELETE FROM deliveries WHERE alert_id IN ({old})", [iso(cutoff)])
    cursor = db.execute(f"DELETE FROM alerts WHERE id IN ({old})", [iso(cutoff)])
    return int(cursor.rowcount)


def first_alert_of_story(db: Db, story_id: int, *, besides: str = "") -> str | None:
    """The id of the first alert on a story other than ``besides`` (what later alerts
    on the story thread under); None when ``besides`` is itself the first."""
    row = db.one(
        "SELECT id FROM alerts WHERE story_id = ? ORDER BY created_at, rowid LIMIT 1",
        [story_id],
    )
    return str(row["id"]) if row and row["id"] != besides else None


# Not being sent by a process right now: never claimed, released, or its claim expired.
_UNCLAIMED = "(claimed_by IS NULL OR claim_expires <= ?)"
# What an outcome does to the claim of the process that sent: it ends.
_RELEASE = "claimed_by = NULL, claimed_at = NULL, claim_expires = NULL"


def due_deliveries(db: Db, now: datetime, limit: int = 500) -> list[Delivery]:
    """Pending deliveries whose next attempt is due and that no process is sending,
    oldest first."""
    rows = db.query(
        f"SELECT *, {CLAIMANT} FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?"
        f" AND {_UNCLAIMED} ORDER BY next_attempt_at, id LIMIT ?",
        [iso(now), iso(now), limit],
    )
    return [_delivery(db, r) for r in rows]


def due_for(db: Db, destination: str, now: datetime, limit: int = 500) -> list[Delivery]:
    """One destination's pending deliveries that are due at ``now`` and that no process
    is sending, oldest first."""
    rows = db.query(
        f"SELECT *, {CLAIMANT} FROM deliveries WHERE destination = ? AND state = 'pending' "
        f"AND next_attempt_at <= ? AND {_UNCLAIMED} ORDER BY next_attempt_at, id LIMIT ?",
        [destination, iso(now), iso(now), limit],
    )
    return [_delivery(db, r) for r in rows]


def next_due_at(
    db: Db, destination: str | None = None, after: datetime | None = None
) -> datetime | None:
    """When the earliest pending delivery (of ``destination``, or of any; falling due
    after ``after``, if given) falls due."""
    where = ""
    params: list[Any] = []
    if destination is not None:
        where, params = " AND destination = ?", [destination]
    if after is not None:
        where, params = where + " AND next_attempt_at > ?", [*params, iso(after)]
    row = db.one(
        f"SELECT MIN(next_attempt_at) AS t FROM deliveries WHERE state = 'pending'{where}",
        params,
    )
    return from_iso(row["t"]) if row else None


def pending_counts(db: Db) -> dict[str, int]:
    """How many deliveries wait to be sent, by destination."""
    rows = db.query(
        "SELECT destination, COUNT(*) AS n FROM deliveries WHERE state = 'pending'"
        " GROUP BY destination"
    )
    return {str(r["destination"]): int(r["n"]) for r in rows}


# A destination's row with its recent sends, read in one statement (so in one snapshot:
# the sends are those of the version read).
_STATE = (
    "SELECT *, (SELECT group_concat(sent_at, ' ') FROM destination_sends"
    " WHERE destination = :name) AS sends FROM destination_state WHERE name = :name"
)


def destination_state(db: Db, name: str) -> DestinationState:
    """What the outbox remembers about destination ``name`` (fresh if nothing)."""
    row = db.one(_STATE, {"name": name})
    if row is None:
        return DestinationState(name)
    return DestinationState(
        name=name,
        failures=int(row["failures"]),
        paused_until=from_iso(row["paused_until"]),
        last_error=row["last_error"],
        last_success_at=from_iso(row["last_success_at"]),
        window=_window(row),
    )


def send_window(db: Db, name: str) -> SendWindow:
    """The destination's recent sends, by every process, as its rate counts them."""
    row = db.one(_STATE, {"name": name})
    return _window(row) if row is not None else SendWindow()


def _window(row: Mapping[str, Any]) -> SendWindow:
    sends = sorted(t for t in (from_iso(x) for x in (row["sends"] or "").split()) if t)
    return SendWindow(int(row["rate_sends"]), tuple(sends))


def record_send(db: Db, pace: Pace, now: datetime) -> SendWindow | None:
    """Inside a write: record a send to ``pace.destination`` starting at ``now``, unless
    another process recorded one since ``pace.seen`` was read (the conditional update
    of the destination's row: of two processes deciding on the same window, one wins).
    The window after it, or None when another process won (decide again on
    :func:`send_window`). Sends older than ``pace.keep`` are forgotten."""
    row = db.one(
        "INSERT INTO destination_state (name, rate_sends) VALUES (?, 1) ON CONFLICT (name)"
        " DO UPDATE SET rate_sends = destination_state.rate_sends + 1"
        " WHERE destination_state.rate_sends = ? RETURNING rate_sends",
        [pace.destination, pace.seen.version],
    )
    if row is None or int(row["rate_sends"]) != pace.seen.version + 1:
        return None
    cutoff = now - pace.keep
    db.execute(
        "DELETE FROM destination_sends WHERE destination = ? AND sent_at <= ?",
        [pace.destination, iso(cutoff)],
    )
    db.execute(
        "INSERT INTO destination_sends (destination, sent_at) VALUES (?, ?)",
        [pace.destination, iso(now)],
    )
    kept = tuple(t for t in pace.seen.sends if t > cutoff)
    return SendWindow(pace.seen.version + 1, (*kept, now))


def paused_until(db: Db, delivery: int, now: datetime) -> datetime | None:
    """Until when the destination of ``delivery`` is paused, if it is at ``now``."""
    row = db.one(
        "SELECT s.paused_until FROM deliveries d JOIN destination_state s"
        " ON s.name = d.destination WHERE d.id = ? AND s.paused_until > ?",
        [delivery, iso(now)],
    )
    return from_iso(row["paused_until"]) if row else None


def assign_units(db: Db, units: Mapping[str, Sequence[int]]) -> None:
    """Commit which message each delivery goes in (unit id -> delivery ids) before any
    of them is sent, so that after a crash the same message goes out under the same key.
    A delivery that already has a unit keeps it."""
    with db.write():
        for unit, ids in units.items():
            db.executemany(
                "UPDATE deliveries SET unit = ? WHERE id = ? AND unit IS NULL",
                [(unit, i) for i in ids],
            )


# The destination's row says it is paused now (by a failure that came after the send began).
_LIVE_PAUSE = "destination_state.paused_until > :now"


def mark_sent(
    db: Db, delivery_ids: int | Sequence[int], now: datetime, destination: str | None = None
) -> None:
    """The destination accepted these deliveries (one message); it is no longer paused —
    unless another process's send failed while this one was in flight and paused it
    until later: that pause (its ``Retry-After``, say) is newer news, and holds."""
    with db.write():
        db.executemany(
            "UPDATE deliveries SET state = 'sent', sent_at = ?, attempts = attempts + 1, "
            f"last_error = NULL, {_RELEASE} WHERE id = ? AND state = 'pending'",
            [(iso(now), i) for i in sorted(_ids(delivery_ids))],
        )
        if destination is not None:
            db.execute(
                "INSERT INTO destination_state (name, failures, last_success_at)"
                " VALUES (:name, 0, :now) ON CONFLICT (name) DO UPDATE SET"
                f" failures = CASE WHEN {_LIVE_PAUSE} THEN destination_state.failures ELSE 0 END,"
                f" last_error = CASE WHEN {_LIVE_PAUSE} THEN destination_state.last_error END,"
                f" paused_until = CASE WHEN {_LIVE_PAUSE} THEN destination_state.paused_until END,"
                " last_success_at = excluded.last_success_at",
                {"name": destination, "now": iso(now)},
            )


def mark_dead(db: Db, delivery_ids: int | Sequence[int], error: str, now: datetime) -> None:
    """These deliveries failed for good: dead until ``alerts retry`` revives them."""
    _attempted(db, delivery_ids, DeliveryState.DEAD, error, now)


def schedule_retry(
    db: Db, delivery_ids: int | Sequence[int], error: str, retry_at: datetime
) -> None:
    """These deliveries failed for now: pending again, due at ``retry_at``."""
    _attempted(db, delivery_ids, DeliveryState.PENDING, error, retry_at)


def _attempted(
    db: Db, ids: int | Sequence[int], state: DeliveryState, error: str, next_at: datetime
) -> None:
    """Count one more failed attempt on each delivery and leave it in ``state``."""
    with db.write():
        db.executemany(
            "UPDATE deliveries SET state = ?, attempts = attempts + 1, last_error = ?, "
            f"next_attempt_at = ?, {_RELEASE} WHERE id = ?",
            [(state.value, error, iso(next_at), i) for i in sorted(_ids(ids))],
        )


def pause_destination(db: Db, destination: str, error: str, until: datetime) -> None:
    """The destination failed transiently: all of it waits until ``until``, and its
    failures (which lengthen the next pause) grow by one."""
    with db.write():
        db.execute(
            "INSERT INTO destination_state (name, failures, paused_until, last_error) "
            "VALUES (?, 1, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "failures = destination_state.failures + 1, paused_until = excluded.paused_until, "
            "last_error = excluded.last_error",
            [destination, iso(until), error],
        )


def give_up_older(db: Db, destination: str, before: datetime, error: str) -> int:
    """Give up (dead) the destination's pending deliveries created before ``before``
    (older than ``max_age`` while it fails); return how many."""
    old = "destination = ? AND state = 'pending' AND created_at < ? AND claimed_by IS NULL"
    with db.write():
        db.lock_rows("deliveries", old, [destination, iso(before)])
        cursor = db.execute(
            f"UPDATE deliveries SET state = 'dead', last_error = ? WHERE {old}",
            [f"given up: older than max_age while the destination fails ({error})",
             destination, iso(before)],
        )  # fmt: skip
    return int(cursor.rowcount)


def deliveries(
    db: Db,
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
    rows = db.query(
        f"SELECT *, {CLAIMANT} FROM deliveries {where} ORDER BY created_at DESC, id DESC LIMIT ?",
        [*params, limit],
    )
    return [_delivery(db, r) for r in rows]


def retry_dead(db: Db, alert_ids: Sequence[str], now: datetime) -> int:
    """Put dead deliveries (of these alerts, or all if empty) back into the queue, to
    be sent again as new messages; their destinations' pauses end (the user says the
    cause is fixed)."""
    where = "state = 'dead'"
    params: list[Any] = list(alert_ids)
    if alert_ids:
        where += f" AND alert_id IN ({', '.join('?' for _ in alert_ids)})"
    with db.write():
        names = [
            r["destination"]
            for r in db.query(f"SELECT DISTINCT destination FROM deliveries WHERE {where}", params)
        ]
        db.lock_rows("deliveries", where, params)
        cursor = db.execute(
            "UPDATE deliveries SET state = 'pending', next_attempt_at = ?, attempts = 0, "
            f"unit = NULL WHERE {where}",
            [iso(now), *params],
        )
        db.executemany(
            "UPDATE destination_state SET paused_until = NULL WHERE name = ?",
            [(n,) for n in sorted(names)],
        )
    return int(cursor.rowcount)


def alert(db: Db, alert_id: str) -> Alert:
    """The alert ``alert_id`` as destinations render it: an article alert with its 'also'
    sightings and thread, or a health notice dressed as the article it is shown as."""
    row = db.one(_ALERT, [alert_id])
    if row is None:
        raise StoreError(f"no alert {alert_id}")
    story = row["story_id"]
    return Alert(
        id=row["id"],
        watch=row["watch"],
        article=article_from_row(row),
        feed=shown_feed(row),
        matched=hits_from_json(row["matched"]),
        snippet=row["snippet"],
        created_at=from_iso(row["created_at"]) or datetime.min.replace(tzinfo=UTC),
        also=tuple(_also(db, story, row["article_id"])) if story is not None else (),
        thread_id=first_alert_of_story(db, story, besides=row["id"]) if story else None,
        kind=row["kind"],
    )


def _also(db: Db, story_id: int, article_id: int) -> Iterator[Sighting]:
    """Copies of the story other than the alerted (article, feed) pair."""
    rows = db.query(
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


def _thread_root(db: Db, alert_id: str, destination: str) -> str | None:
    """The first earlier alert on the same story that went to the same destination
    (preferably of the same watch): a later alert is a follow-up in its thread."""
    row = db.one(
        "SELECT first.id FROM alerts al JOIN alerts first ON first.story_id = al.story_id"
        " AND first.rowid < al.rowid"
        " JOIN deliveries d ON d.alert_id = first.id AND d.destination = ?"
        " WHERE al.id = ? ORDER BY first.watch = al.watch DESC, first.rowid LIMIT 1",
        [destination, alert_id],
    )
    return str(row["id"]) if row else None


def _delivery(db: Db, row: Mapping[str, Any]) -> Delivery:
    shown = alert(db, row["alert_id"])
    # A destination threads only under a message it was itself sent.
    thread = _thread_root(db, shown.id, row["destination"])
    return Delivery(
        id=int(row["id"]),
        alert=replace(shown, thread_id=thread),
        destination=row["destination"],
        state=DeliveryState(row["state"]),
        attempts=int(row["attempts"]),
        next_attempt_at=from_iso(row["next_attempt_at"]),
        last_error=row["last_error"],
        sent_at=from_iso(row["sent_at"]),
        unit=row["unit"],
        created_at=from_iso(row["created_at"]),
        claim=claim_from_row(row),
    )


def _ids(delivery_ids: int | Sequence[int]) -> list[int]:
    """One delivery id or several, as a list."""
    return [delivery_ids] if isinstance(delivery_ids, int) else list(delivery_ids)
