"""Claims on both engines (a real SQLite file, a real PostgreSQL database): instances
sharing the database never take the same feed or message at once; outcomes release;
expired and retired claims are taken over."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from newswatch.models import Article, Match, SendWindow
from newswatch.store import FeedUpdate, Instance, Pace, PendingAlert, Store

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=1)
URL = "https://feeds.example/rss"
A = Instance("aaaa", 101, "host-a", T0)
B = Instance("bbbb", 202, "host-b", T0)


@pytest.fixture
def store_with_alert(new_store: Callable[[], Store]) -> tuple[Store, int]:
    """A store with both instances registered and one pending delivery (its unit assigned)."""
    store = new_store()
    store.ensure_feeds([(URL, "Wire")])
    for me in (A, B):
        store.register_instance(me, T0, T0 + LEASE)
    article = Article(URL, "e1", "https://n.example/1", "n.example/1", "t")
    pending = {"e1": [PendingAlert(Match("w", (), ""), ("hook",))]}
    store.commit_poll(URL, FeedUpdate(success=True), [article], pending, T0)
    (delivery,) = store.due_for("hook", T0)
    store.assign_units({delivery.alert.id: [delivery.id]})
    return store, delivery.id


def second_alert(store: Store) -> int:
    """One more pending delivery to ``hook`` (its unit assigned); its id."""
    article = Article(URL, "e2", "https://n.example/2", "n.example/2", "t2")
    pending = {"e2": [PendingAlert(Match("w2", (), ""), ("hook",))]}
    store.commit_poll(URL, FeedUpdate(success=True), [article], pending, T0)
    (delivery,) = [d for d in store.due_for("hook", T0) if d.alert.watch == "w2"]
    store.assign_units({delivery.alert.id: [delivery.id]})
    return delivery.id


def unit_of(store: Store, delivery: int) -> str:
    row = store.one("SELECT unit FROM deliveries WHERE id = ?", [delivery])
    assert row is not None
    return str(row["unit"])


def test_a_message_is_claimed_by_one_instance_and_the_outcome_releases_it(
    store_with_alert: tuple[Store, int],
) -> None:
    """B cannot claim what A sends, nor see it due; once sent, nobody can claim it."""
    store, d = store_with_alert
    unit = unit_of(store, d)
    assert store.claim_unit([d], unit, A, T0, T0 + LEASE).claimed
    assert not store.claim_unit([d], unit, B, T0, T0 + LEASE).claimed
    assert store.due_for("hook", T0) == []
    (shown,) = store.deliveries()
    assert shown.claim is not None and (shown.claim.pid, shown.claim.host) == (101, "host-a")
    store.mark_sent(d, T0, "hook")
    assert not store.claim_unit([d], unit, B, T0, T0 + LEASE).claimed
    assert store.deliveries()[0].claim is None


def test_an_expired_claim_is_taken_over_with_the_same_unit(
    store_with_alert: tuple[Store, int],
) -> None:
    """A died mid-send: after its claim expired B takes the message, under the same unit."""
    store, d = store_with_alert
    unit = unit_of(store, d)
    assert store.claim_unit([d], unit, A, T0, T0 + LEASE).claimed
    later = T0 + LEASE + timedelta(seconds=1)
    assert [x.id for x in store.due_for("hook", later)] == [d]
    assert store.claim_unit([d], unit, B, later, later + LEASE).claimed
    assert not store.claim_unit([d], "another-unit", A, later, later + LEASE).claimed


def test_a_claim_for_another_unit_is_refused(
    store_with_alert: tuple[Store, int],
) -> None:
    """A stale plan (the delivery went in another message meanwhile) claims nothing."""
    store, d = store_with_alert
    assert not store.claim_unit([d], "digest-of-a-stale-plan", A, T0, T0 + LEASE).claimed
    assert store.deliveries()[0].claim is None


def test_retiring_an_instance_ends_its_claims(
    store_with_alert: tuple[Store, int],
) -> None:
    """The claims of a retired (dead) instance end at once; B takes the message over."""
    store, d = store_with_alert
    unit = unit_of(store, d)
    assert store.claim_unit([d], unit, A, T0, T0 + LEASE).claimed
    assert store.retire_instances([A.id], T0) == 1
    assert store.claim_unit([d], unit, B, T0, T0 + LEASE).claimed
    assert [o.id for o in store.renew_instance(B, T0, T0 + LEASE)] == []


def test_renewal_extends_the_claims_an_instance_holds(
    store_with_alert: tuple[Store, int],
) -> None:
    """While A renews, its claim outlives the first lease."""
    store, d = store_with_alert
    assert store.claim_unit([d], unit_of(store, d), A, T0, T0 + LEASE).claimed
    store.renew_instance(A, T0 + LEASE / 2, T0 + 2 * LEASE)
    later = T0 + LEASE + timedelta(seconds=1)
    assert not store.claim_unit([d], unit_of(store, d), B, later, later + LEASE).claimed


def test_a_feed_is_polled_by_one_instance_and_not_again_within_its_interval(
    store_with_alert: tuple[Store, int],
) -> None:
    """B is refused while A polls; after A's poll (due in an hour) B is refused while A
    runs, and names A; once A stopped, a B started later polls."""
    store, _ = store_with_alert
    assert store.claim_feed(URL, A, T0, T0 + LEASE).claimed
    refused = store.claim_feed(URL, B, T0, T0 + LEASE)
    assert not refused.claimed and refused.holder is not None and refused.holder.id == A.id
    assert refused.state.claim is not None and refused.state.claim.pid == 101
    update = FeedUpdate(success=True, next_poll_at=T0 + timedelta(hours=1), poller=A.id)
    store.commit_fetch(URL, update, T0)
    after = store.claim_feed(URL, B, T0 + timedelta(seconds=5), T0 + LEASE)
    assert not after.claimed and after.holder is None
    assert after.polled_by is not None and after.polled_by.who() == "pid 101 on host host-a"
    store.retire_instances([A.id], T0 + timedelta(seconds=6))
    late = Instance("cccc", 303, "host-b", T0 + timedelta(seconds=7))
    assert store.claim_feed(URL, late, T0 + timedelta(seconds=8), T0 + LEASE).claimed


def test_a_stopped_instance_that_polled_since_one_started_still_counts(
    store_with_alert: tuple[Store, int],
) -> None:
    """B started before A's poll: even after A stopped, B does not poll it again."""
    store, _ = store_with_alert
    assert store.claim_feed(URL, A, T0, T0 + LEASE).claimed
    update = FeedUpdate(success=True, next_poll_at=T0 + timedelta(hours=1), poller=A.id)
    store.commit_fetch(URL, update, T0 + timedelta(seconds=1))
    store.retire_instances([A.id], T0 + timedelta(seconds=2))
    assert not store.claim_feed(URL, B, T0 + timedelta(seconds=3), T0 + LEASE).claimed


SECOND = timedelta(seconds=1)


def test_a_paced_claim_records_the_send_in_the_destinations_shared_window(
    store_with_alert: tuple[Store, int],
) -> None:
    """A's claim under a rate records its send; B decided on the window before it, so
    B's claim of another message is refused as raced (nothing claimed) with A's window,
    and succeeds on that window."""
    store, d1 = store_with_alert
    d2 = second_alert(store)
    seen = store.destination_state("hook").window
    assert seen == SendWindow()
    first = store.claim_unit(
        [d1], unit_of(store, d1), A, T0, T0 + LEASE, Pace("hook", seen, SECOND)
    )
    assert first.claimed and first.window == SendWindow(1, (T0,))
    assert store.destination_state("hook").window == SendWindow(1, (T0,))
    later = T0 + SECOND
    pace = Pace("hook", seen, SECOND)
    raced = store.claim_unit([d2], unit_of(store, d2), B, later, later + LEASE, pace)
    assert (raced.claimed, raced.raced, raced.window) == (False, True, SendWindow(1, (T0,)))
    assert {x.id for x in store.due_for("hook", later)} == {d2}
    pace = Pace("hook", raced.window, SECOND)
    again = store.claim_unit([d2], unit_of(store, d2), B, later, later + LEASE, pace)
    assert again.claimed and again.window == SendWindow(2, (later,))  # T0 is a second old
    assert store.destination_state("hook").window == SendWindow(2, (later,))


def test_a_refused_message_records_no_send(store_with_alert: tuple[Store, int]) -> None:
    """A message another instance sends is refused, and the window is left as it was."""
    store, d = store_with_alert
    pace = Pace("hook", SendWindow(), SECOND)
    assert store.claim_unit([d], unit_of(store, d), A, T0, T0 + LEASE).claimed
    refused = store.claim_unit([d], unit_of(store, d), B, T0, T0 + LEASE, pace)
    assert (refused.claimed, refused.raced, refused.paused_until) == (False, False, None)
    assert store.destination_state("hook").window == SendWindow()


def test_no_message_is_claimed_while_another_instance_paused_the_destination(
    store_with_alert: tuple[Store, int],
) -> None:
    """After B's send failed and paused the destination, A's claim is refused and says
    until when; once the pause is over, A claims it."""
    store, d = store_with_alert
    until = T0 + timedelta(seconds=30)
    store.pause_destination("hook", "HTTP 429", until)
    refused = store.claim_unit([d], unit_of(store, d), A, T0, T0 + LEASE)
    assert not refused.claimed and refused.paused_until == until
    assert store.claim_unit([d], unit_of(store, d), A, until, until + LEASE).claimed


def test_a_success_does_not_end_a_pause_set_while_it_was_in_flight(
    store_with_alert: tuple[Store, int],
) -> None:
    """B's failure paused the destination while A's send was in flight: A's success
    leaves that pause (and the failure count) alone; a success after it ends it."""
    store, d1 = store_with_alert
    d2 = second_alert(store)
    assert store.claim_unit([d1], unit_of(store, d1), A, T0, T0 + LEASE).claimed
    until = T0 + timedelta(seconds=30)
    store.pause_destination("hook", "HTTP 429", until)
    store.mark_sent(d1, T0 + SECOND, "hook")
    state = store.destination_state("hook")
    assert (state.paused_until, state.failures, state.last_error) == (until, 1, "HTTP 429")
    assert store.claim_unit([d2], unit_of(store, d2), A, until, until + LEASE).claimed
    store.mark_sent(d2, until + SECOND, "hook")
    state = store.destination_state("hook")
    assert (state.paused_until, state.failures, state.last_error) == (None, 0, None)
