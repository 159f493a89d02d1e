"""``StoreFront``: the :class:`~newswatch.store.protocol.Store` methods, once for every
engine: a thin front over the table groups (``feeds``, ``articles``, ``stories``,
``outbox``, ``notices``, ``claims``) and the units of work that span them (``units``),
run on the engine's :class:`~newswatch.store.base.Db` (the store itself: each engine's
store is its ``Db`` with this front). The SQL lives in the table groups, not here. Each
method that writes is one unit of work (``Db.unit``: on PostgreSQL it runs again, whole,
if the server aborted it to break a deadlock).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from newswatch.models import Alert, Article, Delivery, DeliveryState, DestinationState, FeedState
from newswatch.store import articles as _articles
from newswatch.store import claims, outbox, units
from newswatch.store import feeds as _feeds
from newswatch.store import stories as _stories
from newswatch.store.base import Db
from newswatch.store.values import (
    FeedClaim,
    FeedUpdate,
    HealthRules,
    Instance,
    Pace,
    PendingAlert,
    PollRecord,
    PruneReport,
    StoredArticle,
    StoryCopy,
    StoryRules,
    UnitClaim,
)


class StoreFront:
    """The ``Store`` methods over the ``Db`` the class is mixed into (``SQLiteStore``,
    ``PostgresStore``)."""

    def ensure_feeds(self: Db, feeds: Iterable[tuple[str, str | None]]) -> None:
        """See :meth:`Store.ensure_feeds`."""
        self.unit(_feeds.ensure, feeds)

    def feed_state(self: Db, url: str) -> FeedState:
        """See :meth:`Store.feed_state`."""
        return _feeds.state(self, url)

    def feed_states(self: Db) -> list[FeedState]:
        """See :meth:`Store.feed_states`."""
        return _feeds.states(self)

    def unseen(self: Db, feed_url: str, articles: Sequence[Article]) -> list[Article]:
        """See :meth:`Store.unseen`."""
        return _articles.unseen(self, _feeds.find(self, feed_url), articles)

    def commit_poll(
        self: Db,
        feed_url: str,
        update: FeedUpdate,
        articles: Sequence[Article],
        alerts: Mapping[str, Sequence[PendingAlert]],
        now: datetime,
        stories: StoryRules | None = None,
        *,
        document: Sequence[str] | None = None,
        health: HealthRules | None = None,
    ) -> PollRecord:
        """See :meth:`Store.commit_poll`."""
        return self.unit(
            units.commit_poll,
            feed_url,
            update,
            articles,
            alerts,
            now,
            stories,
            document=document,
            health=health,
        )

    def commit_fetch(
        self: Db,
        feed_url: str,
        update: FeedUpdate,
        now: datetime,
        health: HealthRules | None = None,
    ) -> PollRecord:
        """See :meth:`Store.commit_fetch`."""
        return self.unit(units.commit_fetch, feed_url, update, now, health)

    def stale_story_keys(self: Db, key_format: int, limit: int) -> list[tuple[int, Article]]:
        """See :meth:`Store.stale_story_keys`."""
        return _stories.stale(self, key_format, limit)

    def rekey_stories(self: Db, key_format: int, keys: Mapping[int, Sequence[int]]) -> int:
        """See :meth:`Store.rekey_stories`."""
        with self.write():
            return _stories.rekey(self, key_format, keys)

    def articles_since(
        self: Db, since: datetime | None, limit: int | None = None
    ) -> list[StoredArticle]:
        """See :meth:`Store.articles_since`."""
        return _articles.since(self, since, limit)

    def story_copies(self: Db, story_or_alert: str) -> list[StoryCopy]:
        """See :meth:`Store.story_copies`."""
        return _stories.copies(self, story_or_alert)

    def prune(self: Db, before: datetime, now: datetime) -> PruneReport:
        """See :meth:`Store.prune`."""
        return self.unit(units.prune, before, now)

    def due_deliveries(self: Db, now: datetime, limit: int = 500) -> list[Delivery]:
        """See :meth:`Store.due_deliveries`."""
        return outbox.due_deliveries(self, now, limit)

    def due_for(self: Db, destination: str, now: datetime, limit: int = 500) -> list[Delivery]:
        """See :meth:`Store.due_for`."""
        return outbox.due_for(self, destination, now, limit)

    def next_due_at(
        self: Db, destination: str | None = None, after: datetime | None = None
    ) -> datetime | None:
        """See :meth:`Store.next_due_at`."""
        return outbox.next_due_at(self, destination, after)

    def pending_counts(self: Db) -> dict[str, int]:
        """See :meth:`Store.pending_counts`."""
        return outbox.pending_counts(self)

    def destination_state(self: Db, name: str) -> DestinationState:
        """See :meth:`Store.destination_state`."""
        return outbox.destination_state(self, name)

    def assign_units(self: Db, units: Mapping[str, Sequence[int]]) -> None:
        """See :meth:`Store.assign_units`."""
        self.unit(outbox.assign_units, units)

    def mark_sent(
        self: Db, delivery_ids: int | Sequence[int], now: datetime, destination: str | None = None
    ) -> None:
        """See :meth:`Store.mark_sent`."""
        self.unit(outbox.mark_sent, delivery_ids, now, destination)

    def mark_dead(self: Db, delivery_ids: int | Sequence[int], error: str, now: datetime) -> None:
        """See :meth:`Store.mark_dead`."""
        self.unit(outbox.mark_dead, delivery_ids, error, now)

    def schedule_retry(
        self: Db, delivery_ids: int | Sequence[int], error: str, retry_at: datetime
    ) -> None:
        """See :meth:`Store.schedule_retry`."""
        self.unit(outbox.schedule_retry, delivery_ids, error, retry_at)

    def pause_destination(self: Db, destination: str, error: str, until: datetime) -> None:
        """See :meth:`Store.pause_destination`."""
        self.unit(outbox.pause_destination, destination, error, until)

    def give_up_older(self: Db, destination: str, before: datetime, error: str) -> int:
        """See :meth:`Store.give_up_older`."""
        return self.unit(outbox.give_up_older, destination, before, error)

    def deliveries(
        self: Db,
        state: DeliveryState | None = None,
        limit: int = 100,
        destination: str | None = None,
    ) -> list[Delivery]:
        """See :meth:`Store.deliveries`."""
        return outbox.deliveries(self, state, limit, destination)

    def retry_dead(self: Db, alert_ids: Sequence[str], now: datetime) -> int:
        """See :meth:`Store.retry_dead`."""
        return self.unit(outbox.retry_dead, alert_ids, now)

    def alert(self: Db, alert_id: str) -> Alert:
        """See :meth:`Store.alert`."""
        return outbox.alert(self, alert_id)

    def register_instance(self: Db, me: Instance, now: datetime, until: datetime) -> list[Instance]:
        """See :meth:`Store.register_instance`."""
        return self.unit(claims.register, me, now, until)

    def renew_instance(self: Db, me: Instance, now: datetime, until: datetime) -> list[Instance]:
        """See :meth:`Store.renew_instance`."""
        return self.unit(claims.beat, me, now, until)

    def retire_instances(self: Db, ids: Sequence[str], now: datetime) -> int:
        """See :meth:`Store.retire_instances`."""
        return self.unit(claims.retire, ids, now)

    def claim_feed(self: Db, url: str, me: Instance, now: datetime, until: datetime) -> FeedClaim:
        """See :meth:`Store.claim_feed`."""
        return self.unit(claims.claim_feed, url, me, now, until)

    def claim_unit(
        self: Db,
        ids: Sequence[int],
        unit: str,
        me: Instance,
        now: datetime,
        until: datetime,
        pace: Pace | None = None,
    ) -> UnitClaim:
        """See :meth:`Store.claim_unit`."""
        return self.unit(units.claim_send, ids, unit, me, now, until, pace)
