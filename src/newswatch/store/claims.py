"""Claims: how processes that share the database never do the same work twice.

Each newswatch process is an *instance* with a row of its own (a random id, its pid and
host), renewed while it runs. Before it polls a feed or sends a message it *claims* the
rows in one write — ``UPDATE … SET claimed_by … WHERE unclaimed-or-expired … RETURNING`` —
and the outcome releases them (``finish_poll``; the outbox's outcomes). The claims of a
running instance are renewed with its row (``beat``); those of a process that died expire,
or end at once when an instance on the same host finds its pid gone (``retire``), and the
next claimant takes the work over. The same statements run on PostgreSQL.

Functions over the shared :class:`~newswatch.store.base.Db`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from newswatch.store import feeds
from newswatch.store.base import Db, Row
from newswatch.store.schema import from_iso, iso
from newswatch.store.values import FeedClaim, Instance

_CLAIM = "claimed_by = :me, claimed_at = :now, claim_expires = :until"
_FREE = "(claimed_by IS NULL OR claimed_by = :me OR claim_expires <= :now)"
_RELEASE = "claimed_by = NULL, claimed_at = NULL, claim_expires = NULL"
_LIVE = "SELECT id FROM instances WHERE expires_at > :now"


def _instance(row: Row) -> Instance:
    return Instance(
        row["id"],
        int(row["pid"]),
        row["host"],
        from_iso(row["started_at"]),
        from_iso(row["expires_at"]),
    )


def register(db: Db, me: Instance, now: datetime, until: datetime) -> list[Instance]:
    """Record ``me`` at work on the database until ``until``; the other instances alive."""
    with db.write():
        db.execute(
            "INSERT INTO instances (id, pid, host, started_at, seen_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
            " seen_at = excluded.seen_at, expires_at = excluded.expires_at",
            [me.id, me.pid, me.host, iso(me.started_at or now), iso(now), iso(until)],
        )
    return others(db, me, now)


def beat(db: Db, me: Instance, now: datetime, until: datetime) -> list[Instance]:
    """``me`` is still at work: its row and every claim it holds now last until
    ``until`` (a poll or send in flight keeps its claim). The other instances that were
    running at some time since ``me`` last renewed (a short ``run --once`` too)."""
    params = {"me": me.id, "now": iso(now), "until": iso(until)}
    with db.write():
        last = db.one("SELECT seen_at FROM instances WHERE id = :me", params)
        db.execute(
            "UPDATE instances SET seen_at = :now, expires_at = :until WHERE id = :me", params
        )
        for table in ("feeds", "deliveries"):
            db.lock_rows(table, "claimed_by = :me", params)
            db.execute(f"UPDATE {table} SET claim_expires = :until WHERE claimed_by = :me", params)
    return others(db, me, (from_iso(last["seen_at"]) if last else None) or now)


def others(db: Db, me: Instance, since: datetime) -> list[Instance]:
    """The instances other than ``me`` running at some time since ``since``, oldest first."""
    rows = db.query(
        "SELECT * FROM instances WHERE id != ? AND expires_at > ? ORDER BY started_at, id",
        [me.id, iso(since)],
    )
    return [_instance(r) for r in rows]


def retire(db: Db, ids: Sequence[str], now: datetime) -> int:
    """The instances ``ids`` stopped (``me`` on its way out, or another one found dead):
    their claims end now, so others take their work over; their rows stay a day (what
    they polled names them). How many claims were ended."""
    if not ids:
        return 0
    marks = ", ".join("?" for _ in ids)
    ended = 0
    with db.write():
        for table in ("feeds", "deliveries"):
            db.lock_rows(table, f"claimed_by IN ({marks})", list(ids))
            cursor = db.execute(
                f"UPDATE {table} SET {_RELEASE} WHERE claimed_by IN ({marks})", list(ids)
            )
            ended += int(cursor.rowcount)
        db.execute(
            f"UPDATE instances SET expires_at = ? WHERE id IN ({marks}) AND expires_at > ?",
            [iso(now), *ids, iso(now)],
        )
        # Rows of instances that stopped a day ago hold nothing worth keeping.
        db.execute("DELETE FROM instances WHERE expires_at < ?", [iso(now - timedelta(days=1))])
    return ended


def claim_feed(db: Db, url: str, me: Instance, now: datetime, until: datetime) -> FeedClaim:
    """Claim the feed ``url`` for a poll by ``me`` until ``until``, in one write. Refused
    while another instance polls it; when another one polled it within its interval and
    is still running, or did so since ``me`` started (two polls where one was due); and
    for a feed that is gone or backing off."""
    params = {
        "me": me.id,
        "now": iso(now),
        "until": iso(until),
        "started": iso(me.started_at or now),
    }
    with db.write():
        feed = feeds.feed_id(db, url)
        taken = db.one(
            f"UPDATE feeds SET {_CLAIM} WHERE id = :id AND {_FREE} AND gone = 0"
            " AND (backoff_until IS NULL OR backoff_until <= :now)"
            " AND NOT (polled_by IS NOT NULL AND polled_by != :me AND next_poll_at > :now"
            f" AND (last_fetch_at >= :started OR polled_by IN ({_LIVE}))) RETURNING id",
            {**params, "id": feed},
        )
        state = feeds.state(db, url)
        if taken is not None:
            return FeedClaim(state, claimed=True)
        row = db.one("SELECT * FROM feeds WHERE id = ?", [feed])
        assert row is not None
        held = row["claimed_by"] not in (None, me.id) and row["claim_expires"] > iso(now)
        polled = row["polled_by"] not in (None, me.id) and state.next_poll_at is not None
        return FeedClaim(
            state,
            claimed=False,
            holder=_instance_of(db, row["claimed_by"]) if held else None,
            polled_by=_instance_of(db, row["polled_by"]) if polled and not held else None,
        )


def _instance_of(db: Db, instance: str) -> Instance | None:
    """The instance ``instance``, running or not, if its row is still kept."""
    row = db.one("SELECT * FROM instances WHERE id = ?", [instance])
    return _instance(row) if row else None


def finish_poll(db: Db, feed: int, poller: str | None) -> None:
    """Inside a poll's write: ``poller`` polled the feed last, and its claim ends."""
    if poller is None:
        return
    db.execute(
        "UPDATE feeds SET polled_by = :me, claimed_by = CASE WHEN claimed_by = :me THEN NULL"
        " ELSE claimed_by END, claim_expires = CASE WHEN claimed_by = :me THEN NULL"
        " ELSE claim_expires END WHERE id = :id",
        {"me": poller, "id": feed},
    )


# The destination of a delivery is not paused after a failure (of any process's send).
_NOT_PAUSED = (
    "NOT EXISTS (SELECT 1 FROM destination_state s WHERE s.name = deliveries.destination"
    " AND s.paused_until > :now)"
)


def claim_unit(
    db: Db, ids: Sequence[int], unit: str, me: Instance, now: datetime, until: datetime
) -> bool:
    """Claim the deliveries of one message (``unit``) for a send by ``me`` until
    ``until``, in one write: all of them or none. Refused when another process sends
    any of them now, or any was sent, failed, rescheduled or put in another message
    since the caller read the outbox, or their destination is paused."""
    params: dict[str, Any] = {"me": me.id, "now": iso(now), "until": iso(until), "unit": unit}
    marks = ", ".join(f":d{n}" for n in range(len(ids)))
    params |= {f"d{n}": i for n, i in enumerate(sorted(ids))}
    with db.write():
        taken = db.query(
            f"UPDATE deliveries SET {_CLAIM} WHERE id IN ({marks}) AND state = 'pending'"
            f" AND unit = :unit AND next_attempt_at <= :now AND {_FREE} AND {_NOT_PAUSED}"
            " RETURNING id",
            params,
        )
        if len(taken) == len(set(ids)):
            return True
        if taken:  # part of the message only: give that part back
            db.execute(
                f"UPDATE deliveries SET {_RELEASE} WHERE id IN ({marks}) AND claimed_by = :me",
                params,
            )
    return False
