"""Delivery, sequenced (SPEC §6): the outbox worker.

Each destination has its own lane, so one slow or failing destination never delays the
others. One pass of a lane:

    store.due_for -> outbox.plan_units -> store.assign_units -> outbox.rate_wait
        -> store.claim_unit -> notifier.send / send_digest
        -> store.mark_sent / mark_dead / schedule_retry (which end the claim)

Each message is claimed in the database before it is sent (all its deliveries or none),
so that when several newswatch processes share the database each message is sent by one
of them only; a message another one sends right now, or that changed since this pass read
the outbox, is left alone. A claim is renewed while the send runs (``Presence``); if the
process dies mid-send it expires, and the next claimant resends that message alone, under
the same key.

A destination's ``rate`` holds across those processes: its recent sends are in the
database (``DestinationState.window``); the lane waits until ``outbox.rate_wait`` allows
a send on the window it read, and the claim records the send only if no other process
recorded one since (else the lane decides again on the window the other one made). A
pause after a failure is in the database too: a claim is refused while the destination
is paused, whichever process paused it.

Which message each delivery goes in is committed *before* anything is sent (see
``newswatch.outbox``, which makes every decision here without I/O). A transient failure
pauses the whole destination until its retry time; a permanent one marks that message's
deliveries dead. A delivery is given up after the destination's ``max_attempts``, or when
it fails after waiting longer than ``max_age``.

Nothing here reads the wall clock or the environment: time comes from ``ctx.clock`` (the
rate's window too: send times are compared across processes, and hosts, so they are wall
clock times; hosts sharing a database keep their clocks in sync, as for the claims).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from newswatch.config import Destination, Rate, Settings
from newswatch.errors import PermanentDeliveryError, TransientDeliveryError
from newswatch.models import DestinationState, Digest, SendWindow
from newswatch.notify import Notifier
from newswatch.outbox import DeliveryReport, Plan, Unit, plan_units, rate_wait, retry_delay
from newswatch.redact import redact_text
from newswatch.store import AsyncStore, Instance, Pace, Store, UnitClaim
from newswatch.text import plural

log = logging.getLogger(__name__)

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
    @property
    def me(self) -> Instance: ...
    @property
    def lease(self) -> timedelta: ...


@dataclass
class Lane:
    """One destination's queue: sends its messages in order, one at a time."""

    ctx: DeliveryContext
    name: str
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    on_report: Callable[[str, DeliveryReport], None] | None = None  # after every pass
    recovered: bool = False  # the recovery after the last failure has been logged

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
        report, paused = await self._send_units(plan.units, dest, state, stopping)
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
        state: DestinationState,
        stopping: asyncio.Event | None,
    ) -> tuple[DeliveryReport, bool]:
        """Send the pass's messages in order; whether the destination is paused now."""
        report = DeliveryReport()
        window = state.window
        for unit in units:
            if stopping is not None and stopping.is_set():
                break
            claim = await self._claim(unit, dest.rate, window, stopping)
            if claim is None:  # stopping while it waited for the rate
                return report, False
            if claim.paused_until is not None:  # another process's send failed
                return report, True
            window = claim.window or window
            if not claim.claimed:
                continue
            outcome, paused = await self._send(unit, dest, state.failures)
            report += outcome
            if paused:
                return report, True
        return report, False

    async def _claim(
        self,
        unit: Unit,
        rate: Rate | None,
        window: SendWindow,
        stopping: asyncio.Event | None,
    ) -> UnitClaim | None:
        """Wait until the destination's rate allows a send (counting every process's
        recent sends, ``window``), then claim the message for this process; None when
        stopping meanwhile. Refused because another process sent to the destination
        first, it waits again on the window that send made; refused because another
        process sends this message (or the outbox changed since the pass read it), the
        message is left alone."""
        while True:
            now = self.ctx.clock()
            delay = rate_wait(rate, window.sends, now).total_seconds()
            if delay > 0:
                await _sleep(delay, stopping)
                if stopping is not None and stopping.is_set():
                    return None
                continue
            pace = Pace(self.name, window, rate.period) if rate is not None else None
            claim = await self.ctx.store.call(
                Store.claim_unit, unit.ids, unit.key, self.ctx.me, now, now + self.ctx.lease, pace
            )
            if not claim.raced or claim.window is None:
                break
            window = claim.window
        if not claim.claimed and claim.paused_until is None:
            log.debug("message left to another process destination=%s unit=%s", self.name, unit.key)
        return claim

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
            await self.ctx.store.call(Store.mark_dead, unit.ids, error, self.ctx.clock())
            self._log_failure(unit, error, "dead: `newswatch alerts retry` revives it")
            return DeliveryReport(dead=len(unit.ids), messages=1), False
        except TransientDeliveryError as exc:
            error, retry_after = redact_text(str(exc)), exc.retry_after
        except Exception as exc:  # a bug in a notifier must not lose the alert
            log.exception("notifier failed unexpectedly destination=%s", self.name)
            error = redact_text(f"internal error: {exc.__class__.__name__}: {exc}")
        else:
            await self.ctx.store.call(Store.mark_sent, unit.ids, self.ctx.clock(), self.name)
            if failures and not self.recovered:
                self.recovered = True  # once per recovery: the next pass starts at 0 failures
                log.info(
                    "destination recovered destination=%s after %s",
                    self.name,
                    plural(failures, "failed attempt"),
                )
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
        self.recovered = False
        now = self.ctx.clock()
        pause_until = now + retry_delay(dest.backoff, failures + 1, retry_after, self.ctx.rng)
        attempts = max(d.attempts for d in unit.deliveries) + 1
        oldest = min(d.created_at or now for d in unit.deliveries)
        give_up = attempts >= dest.max_attempts or oldest < now - dest.max_age
        if give_up:
            await self.ctx.store.call(Store.mark_dead, unit.ids, error, now)
        else:
            await self.ctx.store.call(Store.schedule_retry, unit.ids, error, pause_until)
        await self.ctx.store.call(Store.pause_destination, self.name, error, pause_until)
        others = await self.ctx.store.call(
            Store.give_up_older, self.name, now - dest.max_age, error
        )
        until = pause_until.strftime("%Y-%m-%dT%H:%M:%SZ")
        what = f"dead after {plural(attempts, 'attempt')}" if give_up else f"retry at {until}"
        self._log_failure(unit, error, f"{what}; destination paused until {until}")
        if others:
            log.warning(
                "deliveries given up destination=%s count=%d reason=older than max_age",
                self.name,
                others,
            )
        dead = len(unit.ids) + others if give_up else others
        return DeliveryReport(failed=0 if give_up else len(unit.ids), dead=dead)

    def _log_failure(self, unit: Unit, error: str, outcome: str) -> None:
        """One line per failed message, worded like a failed fetch: what, where, how often,
        the error, then what happens next."""
        log.warning(
            "delivery failed destination=%s %s=%s alerts=%d streak=%d error=%s (%s)",
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
                report, wait = await self.run_pass(stopping)
                if self.on_report is not None:
                    self.on_report(self.name, report)
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

    def __init__(
        self,
        ctx: DeliveryContext,
        *,
        on_report: Callable[[str, DeliveryReport], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self.on_report = on_report
        self.stopping = asyncio.Event()
        self.lanes: dict[str, Lane] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def start(self) -> None:
        """Start a lane for every configured destination that has none (again after a
        reload); lanes of removed destinations end by themselves."""
        for name in self.ctx.notifiers:
            task = self.tasks.get(name)
            if task is None or task.done():
                lane = self.lanes.get(name) or Lane(self.ctx, name, on_report=self.on_report)
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
