"""Merging stories (SPEC §4, issue 13): a new article that is a copy of articles in two
stories shows they are one — two rewrites that are each like the original but not like
each other arrived first and began a story each. The older story absorbs the younger:
its copies, and its alerts, reconciled so that each (watch, story, destination) is still
alerted at most once.

For each watch that alerted on both stories, destination by destination: a delivery that
reached the destination or is being sent to it (``sent``, or pending after an attempt or
once put in a message) is kept, and then the others to that destination are cancelled;
if none has gone out, one is kept (the older story's, an untouched one before a dead
one) and the others cancelled. An alert left with no delivery is cancelled (deleted); of
those left, the older story's stays the story's alert for the watch and the others are
kept as sent, marked with the story they were raised on (``merged_from``). The alert
that is left to send, if nothing of it has been attempted yet, carries the
earliest-published copy of all of them (as ``stories.prefer_earliest`` does).

Functions over the shared :class:`~newswatch.store.base.Db`, inside the caller's write,
which holds the story lock (``Db.lock_stories``). A delivery is cancelled only if it is
still untouched or dead when deleted (the condition is in the ``DELETE`` itself), so one
that a sender took meanwhile is kept.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from newswatch.store.base import Db, Row
from newswatch.store.schema import iso

MERGED = "merged"  # joined_by of the first copy of an absorbed story

# Nothing of the delivery has happened: not attempted, not put in a message, not claimed.
_UNTOUCHED = "state = 'pending' AND attempts = 0 AND unit IS NULL AND claimed_by IS NULL"
_CANCELLABLE = f"(state = 'dead' OR ({_UNTOUCHED}))"


def absorb(db: Db, keep: int, gone: int, bridge: int, score: float, now: datetime) -> list[str]:
    """Merge story ``gone`` into the older story ``keep``, as new article ``bridge`` (a
    copy of both; ``score`` how close it is to ``gone``) showed; the ids of the alerts
    cancelled."""
    db.execute(
        "UPDATE articles SET joined_by = ?, joined_to = ?, joined_score = ?"
        " WHERE story_id = ? AND joined_by IS NULL",
        [MERGED, bridge, round(score, 3), gone],
    )
    db.execute("UPDATE articles SET story_id = ? WHERE story_id = ?", [keep, gone])
    db.execute(
        "UPDATE stories SET merged_into = ?, merged_at = ? WHERE id = ?", [keep, iso(now), gone]
    )
    # Stories ``gone`` absorbed before point at ``keep`` now (one hop for ``copies``).
    db.execute("UPDATE stories SET merged_into = ? WHERE merged_into = ?", [keep, gone])
    alerts = db.query(
        "SELECT al.id, al.watch, al.story_id, al.article_id, al.matched, al.snippet,"
        " al.created_at, a.published FROM alerts al JOIN articles a ON a.id = al.article_id"
        " WHERE al.story_id IN (?, ?)"
        " ORDER BY al.story_id != ?, al.merged_from IS NOT NULL, al.rowid",
        [keep, gone, keep],
    )
    by_watch: dict[str, list[Row]] = defaultdict(list)
    for row in alerts:
        by_watch[row["watch"]].append(row)
    cancelled: list[str] = []
    for rows in by_watch.values():
        if rows[0]["story_id"] == keep and any(r["story_id"] == gone for r in rows):
            cancelled += _reconcile(db, rows)
    db.execute("UPDATE alerts SET story_id = ? WHERE story_id = ?", [keep, gone])
    return cancelled


def _reconcile(db: Db, alerts: list[Row]) -> list[str]:
    """One watch's alerts on the merged story (the older story's own alert first):
    cancel the deliveries that would reach a destination twice, then the alerts left
    with none; mark all but the first left ``merged_from`` their story. The ids of the
    alerts cancelled."""
    ids = [r["id"] for r in alerts]
    marks = ", ".join("?" for _ in ids)
    deliveries = db.query(
        f"SELECT id, alert_id, destination, state, {_UNTOUCHED} AS untouched"
        f" FROM deliveries WHERE alert_id IN ({marks}) ORDER BY id",
        ids,
    )
    rank = {alert_id: n for n, alert_id in enumerate(ids)}
    doomed = _redundant(deliveries, rank)
    db.executemany(
        f"DELETE FROM deliveries WHERE id = ? AND {_CANCELLABLE}", [(d,) for d in doomed]
    )
    cancelled = [
        r["id"]
        for r in db.query(
            f"SELECT id FROM alerts WHERE id IN ({marks}) AND NOT EXISTS"
            " (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id)",
            ids,
        )
    ]
    _carry_earliest(db, [r for r in alerts if r["id"] not in cancelled], alerts)
    db.executemany("DELETE FROM alerts WHERE id = ?", [(c,) for c in cancelled])
    left = [r for r in alerts if r["id"] not in cancelled]
    # One alert per (watch, story) without merged_from: mark the others first.
    db.executemany(
        "UPDATE alerts SET merged_from = COALESCE(merged_from, story_id) WHERE id = ?",
        [(r["id"],) for r in left[1:]],
    )
    if left:
        db.execute("UPDATE alerts SET merged_from = NULL WHERE id = ?", [left[0]["id"]])
    return cancelled


def _redundant(deliveries: list[Row], rank: dict[str, int]) -> list[int]:
    """The deliveries to cancel: per destination, all but those gone out, or if none
    has, all but one (of the alert ranked first, untouched before dead)."""
    by_destination: dict[str, list[Row]] = defaultdict(list)
    for d in deliveries:
        by_destination[d["destination"]].append(d)
    doomed: list[int] = []
    for group in by_destination.values():
        out = [
            d
            for d in group
            if d["state"] == "sent" or (d["state"] == "pending" and not d["untouched"])
        ]
        if not out:
            out = [min(group, key=lambda d: (not d["untouched"], rank[d["alert_id"]], d["id"]))]
        doomed += [int(d["id"]) for d in group if d not in out]
    return doomed


def _carry_earliest(db: Db, left: list[Row], alerts: list[Row]) -> None:
    """If the first alert left has had nothing attempted, it carries the earliest-published
    copy any of ``alerts`` carried, with that alert's match."""
    if not left:
        return
    dated = [r for r in alerts if r["published"] is not None]
    if not dated:
        return
    earliest = min(dated, key=lambda r: (r["published"], r["created_at"]))
    first = left[0]
    if earliest["id"] == first["id"] or (
        first["published"] is not None and first["published"] <= earliest["published"]
    ):
        return
    db.execute(
        "UPDATE alerts SET article_id = ?, matched = ?, snippet = ? WHERE id = ?"
        " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id"
        "     AND (d.state != 'pending' OR d.attempts > 0 OR d.unit IS NOT NULL))",
        [earliest["article_id"], earliest["matched"], earliest["snippet"], first["id"]],
    )
