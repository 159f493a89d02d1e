"""The outbox's outcomes, one job per function: dead, retry later, pause, give up old."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from newswatch.models import Article, DeliveryState, Hit, Match
from newswatch.store import FeedUpdate, PendingAlert, Store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
FEED = "https://a.example/rss"


def queue(store: Store, key: str, when: datetime) -> int:
    """Record a new article at ``when`` whose alert owes 'hook' a delivery; its id."""
    hit = Hit(term="Belarus", field="title", start=0, end=7, text="Belarus")
    pending = PendingAlert(Match(f"w{key}", (hit,), "Belarus …"), ("hook",))
    article = Article(feed_url=FEED, entry_key=key, link=None, link_key=None, title="Belarus")
    record = store.commit_poll(FEED, FeedUpdate(True), [article], {key: [pending]}, when)
    (delivery,) = [d for d in store.due_for("hook", when) if d.alert.id == record.alerts[0]]
    return delivery.id


@pytest.fixture
def store(new_store: Callable[[], Store]) -> Store:
    return new_store()


def test_mark_dead_counts_the_attempt_and_keeps_the_error(store: Store) -> None:
    """A dead delivery is never due again and says why; the destination is not paused."""
    queue(store, "1", NOW)
    store.mark_dead([d.id for d in store.due_for("hook", NOW)], "HTTP 404", NOW)
    (dead,) = store.deliveries(DeliveryState.DEAD)
    assert (dead.attempts, dead.last_error) == (1, "HTTP 404")
    assert store.due_for("hook", NOW + timedelta(days=1)) == []
    assert store.destination_state("hook").paused_until is None


def test_schedule_retry_makes_the_delivery_due_at_its_time(store: Store) -> None:
    """A delivery to retry stays pending, due at its retry time, one attempt counted."""
    delivery = queue(store, "1", NOW)
    store.schedule_retry(delivery, "HTTP 503", NOW + timedelta(minutes=5))
    assert store.due_for("hook", NOW + timedelta(minutes=4)) == []
    (due,) = store.due_for("hook", NOW + timedelta(minutes=5))
    assert (due.state, due.attempts, due.last_error) == (DeliveryState.PENDING, 1, "HTTP 503")


def test_pause_destination_counts_failures_until_a_success(store: Store) -> None:
    """Each pause counts one more failure and sets the pause; a message sent once it is
    over ends it and the count."""
    store.pause_destination("hook", "HTTP 503", NOW + timedelta(minutes=1))
    store.pause_destination("hook", "HTTP 502", NOW + timedelta(minutes=2))
    state = store.destination_state("hook")
    assert (state.failures, state.paused_until, state.last_error) == (
        2,
        NOW + timedelta(minutes=2),
        "HTTP 502",
    )
    store.mark_sent([], NOW + timedelta(minutes=2), "hook")
    state = store.destination_state("hook")
    assert (state.failures, state.paused_until) == (0, None)


def test_give_up_older_gives_up_only_the_old_pending_ones(store: Store) -> None:
    """Pending deliveries created before the cutoff die, with the reason; newer ones wait."""
    old = queue(store, "1", NOW - timedelta(days=2))
    queue(store, "2", NOW)
    assert store.give_up_older("hook", NOW - timedelta(days=1), "HTTP 503") == 1
    (dead,) = store.deliveries(DeliveryState.DEAD)
    assert dead.id == old
    assert dead.last_error == "given up: older than max_age while the destination fails (HTTP 503)"
    assert len(store.due_for("hook", NOW)) == 1
