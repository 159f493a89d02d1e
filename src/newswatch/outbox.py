"""Delivery planning (SPEC §6), pure: which messages a pass sends, how fast, when to retry.

- A message ("unit") is one alert, or a digest of several alerts of one watch. Deliveries
  already given a unit keep it, so a message that may have reached its destination is only
  ever sent again as the very same message, with the same Idempotency-Key / Message-ID.
- ``rate`` caps the messages per period (:func:`rate_wait`), counted over the sends of
  every process on the database (the store keeps that window); when more than ``burst``
  alerts wait at once, they go as digests (one message per watch) instead of one by one; a
  watch (or a destination) with ``digest`` collects its alerts for that long, then sends
  them as one (:func:`plan_units`).
- After a failure the destination waits (:func:`retry_delay`): the peer's ``Retry-After``,
  else exponential backoff with jitter.

No I/O, no clock: ``now`` and the random source are parameters. ``pipeline.deliver``
sequences these decisions with the store and the notifiers.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from newswatch.config import Rate
from newswatch.models import Delivery
from newswatch.waits import backoff as doubled
from newswatch.waits import capped

MAX_DELAY = timedelta(hours=1)  # the longest exponential backoff between attempts
MIN_RETRY_AFTER = timedelta(seconds=1)  # "Retry-After: 0" must not become a busy loop


@dataclass(frozen=True, slots=True)
class Unit:
    """One message to send: a single alert (``key`` is its id) or a digest."""

    key: str
    deliveries: tuple[Delivery, ...]
    digest: bool

    @property
    def ids(self) -> list[int]:
        """The outbox rows this message settles."""
        return [d.id for d in self.deliveries]


@dataclass(frozen=True, slots=True)
class Plan:
    """What one pass sends, in order, and which new units must be committed first."""

    units: tuple[Unit, ...]
    assign: dict[str, list[int]]
    held_until: datetime | None = None  # when the first digest window still open closes


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What delivery did, counted in outbox rows (alert x destination)."""

    sent: int = 0
    failed: int = 0
    dead: int = 0
    messages: int = 0

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            self.sent + other.sent,
            self.failed + other.failed,
            self.dead + other.dead,
            self.messages + other.messages,
        )


def new_digest_id() -> str:
    """A fresh digest id; it becomes the message's Idempotency-Key / Message-ID."""
    return "digest-" + uuid.uuid4().hex


def _chunks(items: Sequence[Delivery], size: int) -> Iterable[tuple[Delivery, ...]]:
    for start in range(0, len(items), size):
        yield tuple(items[start : start + size])


def plan_units(
    due: Sequence[Delivery],
    *,
    now: datetime,
    burst: int | None,
    digest_max: int,
    window: Callable[[str], timedelta | None],
    new_id: Callable[[], str] = new_digest_id,
) -> Plan:
    """Group due deliveries into messages.

    Deliveries already given a unit keep it. Of the others, those of a watch with a
    digest ``window`` wait until the window opened by the oldest of them has passed, then
    go as one digest; the rest go one by one, unless more than ``burst`` wait, in which
    case they go as digests too (per watch, at most ``digest_max`` alerts each).
    """
    assigned: dict[str, list[Delivery]] = defaultdict(list)
    windowed: dict[str, list[Delivery]] = defaultdict(list)
    loose: list[Delivery] = []
    for d in due:
        if d.unit is not None:
            assigned[d.unit].append(d)
        elif window(d.alert.watch) is not None:
            windowed[d.alert.watch].append(d)
        else:
            loose.append(d)
    units = [
        Unit(key, tuple(rows), digest=len(rows) > 1 or key != rows[0].alert.id)
        for key, rows in assigned.items()
    ]
    batches: list[tuple[Delivery, ...]] = []
    held_until: datetime | None = None
    for watch, rows in windowed.items():
        width = window(watch)
        assert width is not None
        opened = min(d.created_at or now for d in rows)
        if opened + width <= now:
            batches += _chunks(rows, digest_max)
        else:
            held_until = min(held_until or opened + width, opened + width)
    if burst is not None and len(loose) > burst:
        by_watch: dict[str, list[Delivery]] = defaultdict(list)
        for d in loose:
            by_watch[d.alert.watch].append(d)
        for same_watch in by_watch.values():
            batches += _chunks(same_watch, digest_max)
    else:
        units += [Unit(d.alert.id, (d,), digest=False) for d in loose]
    assign = {d.alert.id: [d.id] for d in loose if burst is None or len(loose) <= burst}
    for batch in batches:
        key = new_id()
        units.append(Unit(key, batch, digest=True))
        assign[key] = [d.id for d in batch]
    units.sort(key=lambda u: min((d.next_attempt_at or now, d.id) for d in u.deliveries))
    return Plan(tuple(units), assign, held_until)


def retry_delay(
    backoff: timedelta, failures: int, retry_after: float | None, rng: random.Random
) -> timedelta:
    """How long a destination waits after its ``failures``-th consecutive failure: the
    peer's ``Retry-After`` when it gave one (at least 1 s, at most 6 h), else ``backoff``
    doubled for each earlier failure, at most an hour, with jitter (50-100 %)."""
    if retry_after is not None:
        return capped(timedelta(seconds=retry_after), MIN_RETRY_AFTER)
    return doubled(backoff, failures, MAX_DELAY) * (0.5 + rng.random() / 2)


def rate_wait(rate: Rate | None, sends: Sequence[datetime], now: datetime) -> timedelta:
    """How long until the next send may start: at most ``rate.messages`` sends start in
    any ``rate.period`` (a sliding window over ``sends``, the start times of the recent
    sends to the destination, whichever process made them). Zero when it may start now
    or there is no rate. A rate lowered by a reload counts the sends already made."""
    if rate is None:
        return timedelta(0)
    recent = sorted(t for t in sends if t > now - rate.period)
    if len(recent) < rate.messages:
        return timedelta(0)
    return max(recent[-rate.messages] + rate.period - now, timedelta(0))
