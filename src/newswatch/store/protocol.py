"""``Store``: the persistence that ``pipeline`` and ``app`` use, stated once, whatever the
engine behind it (SQLite today, PostgreSQL next). Nothing here names a driver, a
connection or SQL; values cross it as the frozen values of ``models`` and ``values``.

The store decides what is new, and one poll is one write (``commit_poll`` or
``commit_fetch``): DESIGN rule 4. Calls into the store thread name these methods, e.g.
``AsyncStore.call(Store.unseen, url, articles)``, so mypy checks every argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from newswatch.models import Alert, Article, Delivery, DeliveryState, DestinationState, FeedState
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


class Store(Protocol):
    """What newswatch keeps: feeds' state, articles and stories, and the alert outbox."""

    def close(self) -> None:
        """Release the store's connections."""

    # --- feeds and polls -------------------------------------------------------------

    def ensure_feeds(self, feeds: Iterable[tuple[str, str | None]]) -> None:
        """Make sure each configured feed (url, name) is known, under its current name."""

    def feed_state(self, url: str) -> FeedState:
        """The state of the feed configured as ``url`` (a fresh one if never seen)."""
        ...

    def feed_states(self) -> list[FeedState]:
        """Every feed the store knows, in URL order."""
        ...

    def unseen(self, feed_url: str, articles: Sequence[Article]) -> list[Article]:
        """A read-only prefilter: the articles this feed's entries and every feed's links
        have not met, so the pipeline matches only what may be new."""
        ...

    def commit_poll(
        self,
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
        """One poll that parsed a document, in one write: the document's entry keys, the
        new articles and their stories, their alerts and deliveries, the feed's state, and
        (judged on that state) a change of health with its notice."""
        ...

    def commit_fetch(
        self, feed_url: str, update: FeedUpdate, now: datetime, health: HealthRules | None = None
    ) -> PollRecord:
        """One poll without a document (error, 304, 410, Retry-After), in one write: the
        feed's state and a change of health with its notice."""
        ...

    def stale_story_keys(self, key_format: int, limit: int) -> list[tuple[int, Article]]:
        """Up to ``limit`` indexed articles (id and stored text) whose story keys another
        version made than ``key_format``."""
        ...

    def rekey_stories(self, key_format: int, keys: Mapping[int, Sequence[int]]) -> int:
        """Replace indexed articles' story keys (by article id) with ``keys`` of version
        ``key_format``, in one write; how many rows changed."""
        ...

    def articles_since(
        self, since: datetime | None, limit: int | None = None
    ) -> list[StoredArticle]:
        """Stored articles first seen at or after ``since`` (all if None), oldest first."""
        ...

    def story_copies(self, story_or_alert: str) -> list[StoryCopy]:
        """The copies of a story (its number, or an alert id on it), each with why it
        joined the story."""
        ...

    def prune(self, before: datetime, now: datetime) -> PruneReport:
        """Forget what is older than ``before``, except the identities dedup needs."""
        ...

    # --- the outbox ------------------------------------------------------------------

    def due_deliveries(self, now: datetime, limit: int = 500) -> list[Delivery]:
        """Pending deliveries to any destination that are due at ``now``, oldest first."""
        ...

    def due_for(self, destination: str, now: datetime, limit: int = 500) -> list[Delivery]:
        """One destination's pending deliveries that are due at ``now``, oldest first."""
        ...

    def next_due_at(
        self, destination: str | None = None, after: datetime | None = None
    ) -> datetime | None:
        """When the earliest pending delivery (of ``destination``, or of any; falling due
        after ``after``, if given) falls due."""
        ...

    def pending_counts(self) -> dict[str, int]:
        """How many deliveries wait to be sent, by destination (for monitoring)."""
        ...

    def destination_state(self, name: str) -> DestinationState:
        """What the outbox remembers about destination ``name`` (fresh if nothing)."""
        ...

    def assign_units(self, units: Mapping[str, Sequence[int]]) -> None:
        """Commit which message (unit id) each delivery goes in, before any is sent."""

    def mark_sent(
        self, delivery_ids: int | Sequence[int], now: datetime, destination: str | None = None
    ) -> None:
        """The destination accepted these deliveries; it is no longer paused."""

    def mark_dead(self, delivery_ids: int | Sequence[int], error: str, now: datetime) -> None:
        """These deliveries failed for good: dead until ``retry_dead``."""

    def schedule_retry(
        self, delivery_ids: int | Sequence[int], error: str, retry_at: datetime
    ) -> None:
        """These deliveries failed for now: pending again, due at ``retry_at``."""

    def pause_destination(self, destination: str, error: str, until: datetime) -> None:
        """The destination failed transiently: all of it waits until ``until``."""

    def give_up_older(self, destination: str, before: datetime, error: str) -> int:
        """Give up the destination's pending deliveries created before ``before``;
        return how many."""
        ...

    def deliveries(
        self,
        state: DeliveryState | None = None,
        limit: int = 100,
        destination: str | None = None,
    ) -> list[Delivery]:
        """Recent deliveries, newest first, optionally only in ``state`` / to ``destination``."""
        ...

    def retry_dead(self, alert_ids: Sequence[str], now: datetime) -> int:
        """Queue dead deliveries (of these alerts, or all if empty) again; return how many."""
        ...

    def alert(self, alert_id: str) -> Alert:
        """The alert ``alert_id`` as destinations render it."""
        ...

    # --- instances and claims (processes sharing the database) ------------------------

    def register_instance(self, me: Instance, now: datetime, until: datetime) -> list[Instance]:
        """Record ``me`` at work on the database until ``until``; return the others alive."""
        ...

    def renew_instance(self, me: Instance, now: datetime, until: datetime) -> list[Instance]:
        """``me`` is still at work: it and every claim it holds last until ``until``;
        return the other instances alive."""
        ...

    def retire_instances(self, ids: Sequence[str], now: datetime) -> int:
        """These instances stopped (or died): their claims end, their rows go; return how
        many claims ended."""
        ...

    def claim_feed(self, url: str, me: Instance, now: datetime, until: datetime) -> FeedClaim:
        """Claim a feed for a poll by ``me`` until ``until`` (the poll's commit releases
        it), unless another instance polls it now or polled it within its interval."""
        ...

    def claim_unit(
        self,
        ids: Sequence[int],
        unit: str,
        me: Instance,
        now: datetime,
        until: datetime,
        pace: Pace | None = None,
    ) -> UnitClaim:
        """Claim all deliveries of message ``unit`` for a send by ``me`` until ``until``
        (its outcome releases them), or none: refused while another process sends any of
        them, or their destination is paused. Under a rate (``pace``), the claim also
        records the send in the destination's window shared by every process, and is
        refused (``raced``) if another process recorded one since ``pace.seen``."""
        ...
