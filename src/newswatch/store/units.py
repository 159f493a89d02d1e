"""The units of work that span the table groups, each one ``BEGIN IMMEDIATE`` transaction:
a poll (``commit_poll``, or ``commit_fetch`` when there was no document), the claim of a
message for a send (``claim_send``: its deliveries and its slot in the destination's
rate) and ``prune``.

One poll is one write (DESIGN rule 4): the document's entries, the new articles and their
stories, their alerts with their deliveries (the outbox pattern), the feed's state, and the
change of its health with the notice that announces it all commit together or not at all;
the same write ends the poller's claim on the feed (``claims``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from newswatch.models import Article
from newswatch.store import articles, claims, feeds, merging, notices, outbox, stories
from newswatch.store.base import Db
from newswatch.store.values import (
    FeedUpdate,
    HealthChange,
    HealthRules,
    Instance,
    Pace,
    PendingAlert,
    PollRecord,
    PruneReport,
    StoryRules,
    UnitClaim,
)


def commit_poll(
    db: Db,
    feed_url: str,
    update: FeedUpdate,
    candidates: Sequence[Article],
    alerts: Mapping[str, Sequence[PendingAlert]],
    now: datetime,
    story_rules: StoryRules | None = None,
    *,
    document: Sequence[str] | None = None,
    health: HealthRules | None = None,
) -> PollRecord:
    """Commit one poll that parsed a document, at once.

    ``document`` holds the entry keys the document lists (so pruning knows what is still
    in a feed). ``alerts`` maps a candidate's ``entry_key`` to the alerts it causes if it
    really is new — decided here, inside the write; copies of known articles are recorded
    as sightings, never alerted. With ``story_rules`` a new article that is a near-duplicate
    of a recent one joins its story, so two copies recorded at once still meet; one that
    is a near-duplicate of articles in several stories merges them (``merging``); alerts
    are unique per (watch, story). With ``health``, the feed's updated state is judged and a
    change recorded and announced in the same write.
    """
    new: list[Article] = []
    created: list[tuple[str, int, str]] = []
    merged: list[tuple[int, int]] = []
    cancelled: list[str] = []
    with db.write():
        db.lock_stories()  # on PostgreSQL: instances committing copies at once decide in turn
        feed = feeds.feed_id(db, feed_url)
        if document is not None:
            feeds.mark_document(db, feed, document, now)
        if story_rules is not None:
            stories.prune_index(db, now - story_rules.window, story_rules.prune)
        copies = articles.known_all(db, feed, candidates)  # in one go, inside the write
        links: dict[str, int] = {}  # the links of the articles this poll stored
        for article in candidates:
            copy_of = copies.get(article.entry_key) or links.get(article.link_key or "")
            placed = _place(db, feed, article, now, story_rules, copy_of)
            if placed is None:
                continue
            copies[article.entry_key] = placed.article  # a later entry of this id is a copy
            if article.link_key:
                links[article.link_key] = placed.article
            new.append(article)
            merged += placed.merged
            cancelled += placed.cancelled
            for pending in alerts.get(article.entry_key, ()):
                alert = outbox.insert_alert(db, placed.article, placed.story, pending, now)
                if alert is not None:
                    created.append((*alert, pending.match.watch))
                else:  # the story already alerted this watch: the earliest copy carries it
                    stories.prefer_earliest(
                        db, placed.story, placed.article, article.published, pending
                    )
        feeds.apply_update(db, feed, update, now)
        claims.finish_poll(db, feed, update.poller)
        if new:
            feeds.count_new(db, feed, len(new), now)
        change, notice = _judge_health(db, feed, feed_url, health, now)
    # An alert this poll raised and a later copy in it cancelled (by a merge) was never.
    kept = [c for c in created if c[0] not in cancelled]
    return PollRecord(
        tuple(new),
        tuple(alert_id for alert_id, _, _ in kept),
        sum(n for _, n, _ in kept),
        change,
        notice,
        tuple(watch for _, _, watch in kept),
        merged=tuple(merged),
        cancelled=tuple(c for c in cancelled if c not in {a for a, _, _ in created}),
    )


def commit_fetch(
    db: Db, feed_url: str, update: FeedUpdate, now: datetime, health: HealthRules | None = None
) -> PollRecord:
    """Commit one poll that yielded no document (an error, a 304, a 410, Retry-After):
    the feed's state and, with ``health``, the change of its health, in one write."""
    with db.write():
        feed = feeds.feed_id(db, feed_url)
        feeds.apply_update(db, feed, update, now)
        claims.finish_poll(db, feed, update.poller)
        change, notice = _judge_health(db, feed, feed_url, health, now)
    return PollRecord(health=change, notice=notice)


@dataclass(frozen=True, slots=True)
class _Placed:
    """Where ``_place`` put a new article, and the stories it merged on the way."""

    article: int
    story: int
    merged: tuple[tuple[int, int], ...] = ()  # (absorbed story, story it went into)
    cancelled: tuple[str, ...] = ()  # alerts cancelled by those merges


class _Refused(Exception):
    """Ends a claim's write without committing it: nothing of it is kept. ``raced``:
    the deliveries were free, but another process recorded a send first."""

    def __init__(self, *, raced: bool = False) -> None:
        super().__init__()
        self.raced = raced


def claim_send(
    db: Db,
    ids: Sequence[int],
    unit: str,
    me: Instance,
    now: datetime,
    until: datetime,
    pace: Pace | None = None,
) -> UnitClaim:
    """Claim one message for a send by ``me``, in one write: all its deliveries
    (``claims.claim_unit``) and, under a rate (``pace``), the send in its destination's
    window (``outbox.record_send``) — both or neither. When refused, says why."""
    try:
        with db.write():
            if not claims.claim_unit(db, ids, unit, me, now, until):
                raise _Refused
            if pace is None:
                return UnitClaim(claimed=True)
            window = outbox.record_send(db, pace, now)
            if window is None:
                raise _Refused(raced=True)
            return UnitClaim(claimed=True, window=window)
    except _Refused as refused:
        if refused.raced and pace is not None:
            return UnitClaim(False, outbox.send_window(db, pace.destination), raced=True)
    paused = outbox.paused_until(db, ids[0], now) if ids else None
    return UnitClaim(claimed=False, paused_until=paused)


def _place(
    db: Db,
    feed: int,
    article: Article,
    now: datetime,
    rules: StoryRules | None,
    copy_of: int | None,
) -> _Placed | None:
    """Store ``article`` if new (``copy_of`` None) in its story; if it is a copy of
    articles in several stories, the oldest absorbs the others. A copy of a known article
    is recorded as a sighting instead (None)."""
    if copy_of is not None:
        articles.record_sighting(db, feed, article, copy_of, now)
        return None
    signature = rules.signatures.get(article.entry_key) if rules is not None else None
    keyed = signature if signature is not None and signature.keys else None
    join = None
    if rules is not None and keyed is not None:
        join = stories.story_of(db, keyed, rules, now)
    story = join.story if join is not None else stories.new_story(db, now)
    article_id = articles.insert(db, feed, story, article, now)
    if keyed is not None and rules is not None:
        stories.index(db, article_id, keyed, now, rules.key_format)
    if join is None:
        return _Placed(article_id, story)
    stories.record_join(db, article_id, join)
    cancelled: list[str] = []
    for near in join.absorbs:
        cancelled += merging.absorb(db, story, near.story, article_id, near.score, now)
    merged = tuple((near.story, story) for near in join.absorbs)
    return _Placed(article_id, story, merged, tuple(cancelled))


def _judge_health(
    db: Db, feed: int, feed_url: str, rules: HealthRules | None, now: datetime
) -> tuple[HealthChange | None, str | None]:
    """Judge the feed's state as this write left it; record a change of health and queue
    its notice. Returns the change (if any) and the notice's alert id (if queued)."""
    if rules is None:
        return None, None
    change = rules.judge(feeds.state(db, feed_url))
    if change is None:
        return None, None
    feeds.set_health(db, feed, change.health)
    if change.notice is None or not rules.notify:
        return change, None
    notice = notices.insert(db, feed, change.health, change.notice, now)
    return change, outbox.insert_notice_alert(db, notice, change.notice, rules.notify, now)


def prune(db: Db, before: datetime, now: datetime) -> PruneReport:
    """Bound the database: forget what is older than ``before`` except what dedup needs.

    - Alerts created before it, with their deliveries, once none is still pending; the
      notices those alerts carried.
    - Articles first seen before it and no longer behind any alert become tombstones:
      their text is dropped, their identity (entry keys, normalized link) is kept, so an
      item that is still in a feed is still known and never alerts again.
    - A tombstone is deleted only when no feed has shown it since ``before`` and it is
      missing from the latest document of every feed that had it.
    """
    with db.write():
        alerts = outbox.forget_alerts(db, before)
        notices.forget_unalerted(db)
        tombstoned = articles.tombstone(db, before, now)
        forgotten = articles.forget(db, before)
        stories.delete_empty(db, before)
    return PruneReport(alerts, tombstoned, forgotten)
