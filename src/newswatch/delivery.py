"""The delivery half of the pipeline: the outbox worker (SPEC §6).

Each destination has its own lane, so one slow or failing destination never delays the
others. One pass of a lane:

    store.due_for -> plan messages -> store.assign_units -> rate limit
        -> notifier.send / send_digest -> store.mark_sent / mark_failed

- A message ("unit") is one alert, or a digest of several alerts of one watch. Which
  message each delivery goes in is committed *before* anything is sent, and kept across
  retries and crashes: a message that may have reached its destination is only ever sent
  again as the very same message, with the same Idempotency-Key / Message-ID.
- A transient failure pauses the whole destination (its queue waits for the retry time,
  growing exponentially with jitter; ``Retry-After`` when the peer gave one); a permanent
  one marks that message's deliveries dead. A delivery is given up after the destination's
  ``max_attempts``, or when it fails after waiting longer than ``max_age``.
- ``rate`` caps the messages per period; when more than ``burst`` alerts wait at once,
  they go as digests (one message per watch) instead of one by one; a watch (or a
  destination) with ``digest`` collects its alerts for that long, then sends them as one.

Nothing here reads the wall clock or the environment: time comes from ``ctx.clock``; the
rate limiter measures intervals with the event loop's monotonic clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from newswatch.config import Destination, Rate, Settings
from newswatch.errors import PermanentDeliveryError, TransientDeliveryError
from newswatch.models import Delivery, Digest
from newswatch.notify import Notifier
from newswatch.redact import redact_text
from newswatch.store import AsyncStore, Store

log = logging.getLogger(__name__)

MAX_DELAY = timedelta(hours=1)  # the longest exponential backoff between attempts
MAX_RETRY_AFTER = timedelta(hours=6)
MIN_RETRY_AFTER = timedelta(seconds=1)  # "Retry-After: 0" must not become a busy loop
PASS_LIMIT = 500  # deliveries looked at in one pass of a lane
IDLE = 30.0  # a lane looks at the outbox at least this often (seconds)
ERROR_WAIT = 5.0  # after an unexpected error in a pass (seconds)


class DeliveryContext(Protocol):
    """What delivery needs from the runtime (``pipeline.Runtime`` is one)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def store(self) -> AsyncStore: ...
    @property
    def notifiers(self) -> Mapping[str, Notifier]: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...
    @property
    def rng(self) -> random.Random: ...


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
        return min(max(timedelta(seconds=retry_after), MIN_RETRY_AFTER), MAX_RETRY_AFTER)
    factor: int = 2 ** min(max(failures - 1, 0), 20)
    return min(backoff * factor, MAX_DELAY) * (0.5 + rng.random() / 2)


class RateLimiter:
    """At most ``rate.messages`` sends in any ``rate.period``: a sliding window of the
    last send times (monotonic seconds)."""

    def __init__(self) -> None:
        self._sent: deque[float] = deque()

    def wait(self, rate: Rate | None, now: float) -> float:
        """Seconds to wait before the next send may start."""
        if rate is None:
            return 0.0
        period = rate.period.total_seconds()
        while self._sent and self._sent[0] <= now - period:
            self._sent.popleft()
        while len(self._sent) > rate.messages:  # the rate was lowered by a reload
            self._sent.popleft()
        if len(self._sent) < rate.messages:
            return 0.0
        return self._sent[0] + period - now

    def record(self, now: float) -> None:
        """A send started at ``now``."""
        self._sent.append(now)


@dataclass
class Lane:
    """One destination's queue: sends its messages in order, one at a time."""

    ctx: DeliveryContext
    name: str
    limiter: RateLimiter = field(default_factory=RateLimiter)
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def destination(self) -> Destination | None:
        """The destination's current settings (None once it was removed by a reload)."""
        found = [d for d in self.ctx.settings.destinations if d.name == self.name]
        return found[0] if found and self.name in self.ctx.notifiers else None

    async def run_pass(self, stopping: asyncio.Event | None = None) -> tuple[DeliveryReport, float]:
        """Send what is due now; returns what happened and how many seconds until there
        may be more to do."""
        store, now = self.ctx.store, self.ctx.clock()
        dest = self.destination()
        if dest is None:
            return DeliveryReport(), IDLE
        state = await store.call(Store.destination_state, self.name)
        if state.paused_until is not None and state.paused_until > now:
            return DeliveryReport(), (state.paused_until - now).total_seconds()
        due = await store.call(Store.due_for, self.name, now, PASS_LIMIT)
        notifier = self.ctx.notifiers[self.name]
        plan = plan_units(
            due,
            now=now,
            burst=dest.burst,
            digest_max=max(notifier.digest_max, 1),
            window=lambda watch: self.ctx.settings.digest_window(watch, self.name),
        )
        if plan.assign:
            await store.call(Store.assign_units, plan.assign)
        report, paused = await self._send_units(plan.units, dest, state.failures, stopping)
        if paused:
            state = await store.call(Store.destination_state, self.name)
            until = state.paused_until or self.ctx.clock()
            return report, max((until - self.ctx.clock()).total_seconds(), 0.0)
        if stopping is not None and stopping.is_set():
            return report, 0.0
        return report, await self._next_wait(plan, full=len(due) >= PASS_LIMIT)

    async def _send_units(
        self,
        units: Sequence[Unit],
        dest: Destination,
        failures: int,
        stopping: asyncio.Event | None,
    ) -> tuple[DeliveryReport, bool]:
        report = DeliveryReport()
        loop = asyncio.get_running_loop()
        for unit in units:
            if stopping is not None and stopping.is_set():
                break
            while (delay := self.limiter.wait(dest.rate, loop.time())) > 0:
                await _sleep(delay, stopping)
                if stopping is not None and stopping.is_set():
                    return report, False
            self.limiter.record(loop.time())
            outcome, paused = await self._send(unit, dest, failures)
            report += outcome
            if paused:
                return report, True
        return report, False

    async def _send(
        self, unit: Unit, dest: Destination, failures: int
    ) -> tuple[DeliveryReport, bool]:
        """Send one message and record its outcome; whether the destination is paused."""
        notifier = self.ctx.notifiers.get(self.name)
        retry_after: float | None = None
        try:
            if notifier is None:
                raise TransientDeliveryError("destination removed", destination=self.name)
            if unit.digest:
                alerts = tuple(d.alert for d in unit.deliveries)
                digest = Digest(unit.key, alerts[0].watch, alerts, self.ctx.clock())
                await notifier.send_digest(digest)
            else:
                await notifier.send(unit.deliveries[0].alert)
        except PermanentDeliveryError as exc:
            error = redact_text(str(exc))
            await self.ctx.store.call(
                Store.mark_failed, unit.ids, error, retry_at=None, now=self.ctx.clock()
            )
            self._log_failure(unit, error, "dead: `newswatch alerts retry` revives it")
            return DeliveryReport(dead=len(unit.ids), messages=1), False
        except TransientDeliveryError as exc:
            error, retry_after = redact_text(str(exc)), exc.retry_after
        except Exception as exc:  # a bug in a notifier must not lose the alert
            log.exception("notifier failed unexpectedly destination=%s", self.name)
            error = redact_text(f"internal error: {exc.__class__.__name__}: {exc}")
        else:
            await self.ctx.store.call(Store.mark_sent, unit.ids, self.ctx.clock(), self.name)
            return DeliveryReport(sent=len(unit.ids), messages=1), False
        return await self._transient(unit, dest, failures, error, retry_after), True

    async def _transient(
        self,
        unit: Unit,
        dest: Destination,
        failures: int,
        error: str,
        retry_after: float | None,
    ) -> DeliveryReport:
        """Pause the destination; give the message up if it ran out of attempts or age."""
        now = self.ctx.clock()
        pause_until = now + retry_delay(dest.backoff, failures + 1, retry_after, self.ctx.rng)
        attempts = max(d.attempts for d in unit.deliveries) + 1
        oldest = min(d.created_at or now for d in unit.deliveries)
        give_up = attempts >= dest.max_attempts or oldest < now - dest.max_age
        others = await self.ctx.store.call(
            Store.mark_failed,
            unit.ids,
            error,
            retry_at=None if give_up else pause_until,
            now=now,
            destination=self.name,
            pause_until=pause_until,
            give_up_before=now - dest.max_age,
        )
        what = f"dead after {attempts} attempts" if give_up else f"retry at {pause_until:%H:%M:%S}"
        self._log_failure(unit, error, f"{what}; destination paused until {pause_until:%H:%M:%S}")
        if others:
            log.warning(
                "deliveries given up destination=%s count=%d reason=older than max_age",
                self.name,
                others,
            )
        dead = len(unit.ids) + others if give_up else others
        return DeliveryReport(failed=0 if give_up else len(unit.ids), dead=dead)

    def _log_failure(self, unit: Unit, error: str, outcome: str) -> None:
        log.warning(
            "delivery failed destination=%s %s=%s alerts=%d attempts=%d error=%s (%s)",
            self.name,
            "digest" if unit.digest else "alert",
            unit.key,
            len(unit.deliveries),
            max(d.attempts for d in unit.deliveries) + 1,
            error,
            outcome,
        )

    async def _next_wait(self, plan: Plan, *, full: bool) -> float:
        """Seconds until this lane may have something to send."""
        if full:
            return 0.0
        now = self.ctx.clock()
        upcoming = await self.ctx.store.call(Store.next_due_at, self.name, now)
        times = [t for t in (upcoming, plan.held_until) if t is not None]
        if not times:
            return IDLE
        return min(max((min(times) - now).total_seconds(), 0.0), IDLE)

    async def run(self, stopping: asyncio.Event) -> None:
        """Serve the destination until ``stopping`` is set or it is removed."""
        while not stopping.is_set() and self.destination() is not None:
            self.wake.clear()
            try:
                _, wait = await self.run_pass(stopping)
            except Exception:
                log.exception("delivery pass failed destination=%s; retrying shortly", self.name)
                wait = ERROR_WAIT
            if stopping.is_set():
                return
            if wait > 0:  # capped: `alerts retry` from another process is seen soon
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), min(wait, IDLE))


async def _sleep(seconds: float, stopping: asyncio.Event | None) -> None:
    """Sleep, but wake at once when ``stopping`` is set."""
    if stopping is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


class Deliverer:
    """The daemon's delivery worker: one lane task per configured destination."""

    def __init__(self, ctx: DeliveryContext) -> None:
        self.ctx = ctx
        self.stopping = asyncio.Event()
        self.lanes: dict[str, Lane] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def start(self) -> None:
        """Start a lane for every configured destination that has none (again after a
        reload); lanes of removed destinations end by themselves."""
        for name in self.ctx.notifiers:
            task = self.tasks.get(name)
            if task is None or task.done():
                lane = self.lanes.get(name) or Lane(self.ctx, name)
                self.lanes[name] = lane
                self.tasks[name] = asyncio.create_task(lane.run(self.stopping), name=f"lane-{name}")
        self.wake()

    def wake(self) -> None:
        """New alerts (or new settings): every lane looks at the outbox now."""
        for lane in self.lanes.values():
            lane.wake.set()

    async def stop(self, grace: float) -> None:
        """Let messages in flight finish for up to ``grace`` seconds, send nothing new;
        what is not sent stays pending (a cancelled send is resent with the same key)."""
        self.stopping.set()
        self.wake()
        tasks = [t for t in self.tasks.values() if not t.done()]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if pending:
            log.warning("stopped %d delivery in flight; it stays pending", len(pending))


async def deliver_all(ctx: DeliveryContext) -> DeliveryReport:
    """Every destination's due deliveries, side by side (``run --once``): passes repeat
    while a lane finds more to send now; paused destinations and open digest windows wait
    for a later run."""

    async def drain(lane: Lane) -> DeliveryReport:
        total = DeliveryReport()
        while True:
            report, wait = await lane.run_pass()
            total += report
            if wait > 0 or report.messages == 0:
                return total

    reports = await asyncio.gather(*(drain(Lane(ctx, name)) for name in ctx.notifiers))
    return sum(reports, DeliveryReport())
